// Package errwindowungrouped windows a stream that is not grouped: WindowedBy
// exists only on a grouped stream, so Go's type checker reports it.
package errwindowungrouped

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func Ungrouped(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		WindowedBy(streams.TumblingWindows(time.Minute)).
		Count(streams.RocksDBStore("counts")).
		ToStream().
		To("counts")
}
