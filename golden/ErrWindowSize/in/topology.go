// Package errwindowsize has windows whose size, gap, time difference or count is
// not positive, and one whose size is not a constant: each is reported.
package errwindowsize

import (
	"time"

	"github.com/gofka/streams"
)

var size = time.Minute // a variable: its value is known only at run time

//gofka:topology
func Sizes(b *streams.StreamsBuilder) {
	g := b.Stream(streams.With(streams.String(), streams.String()), "views").GroupByKey()
	g.WindowedBy(streams.TumblingWindows(0)).Count(streams.RocksDBStore("zero")).ToStream().To("zero")
	g.WindowedBy(streams.SessionWindows(-5 * time.Second)).Count(streams.RocksDBStore("neg-gap")).ToStream().To("neg-gap")
	g.WindowedBy(streams.SlidingWindows(0 * time.Millisecond)).Count(streams.RocksDBStore("sliding")).ToStream().To("sliding")
	g.WindowedBy(streams.CountWindows(0)).Count(streams.RocksDBStore("count")).ToStream().To("count")
	g.WindowedBy(streams.TumblingWindows(size)).Count(streams.RocksDBStore("var")).ToStream().To("var")
}
