// Package suppressfinal counts views per user in tumbling windows of 3 ms with a
// grace of 1 ms and emits one final count per window, once stream time passes the
// window's end plus grace: Suppress(streams.UntilWindowCloses()).
package suppressfinal

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func SuppressFinal(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(3 * time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("views-per-window")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		To("final-views")
}
