// Package errhoppingadvance hops by more than its window size, which would leave
// records in no window.
package errhoppingadvance

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func Hops(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.HoppingWindows(time.Minute, 2*time.Minute)).
		Count(streams.RocksDBStore("hops")).
		ToStream().
		To("hops")
}
