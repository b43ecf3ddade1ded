// Package processaftersuppress runs a processor on the final counts of tumbling
// windows: the processor sees each window's time (its latest view's), and the
// records it forwards carry the time it gives them.
package processaftersuppress

import (
	"time"

	"github.com/gofka/streams"
)

// busy forwards the windows with more than two views, keyed by user.
func busy(ctx *streams.ProcessorContext[string, int64], w streams.Windowed[string], n int64) error {
	if n > 2 {
		ctx.Forward(w.Key, n)
	}
	return nil
}

//gofka:topology
func ProcessAfterSuppress(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(3 * time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("views-per-window")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Process(busy).
		To("busy-users")
}
