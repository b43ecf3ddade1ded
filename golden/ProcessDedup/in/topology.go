// Package processdedup drops repeated events with a processor and a store: the
// first event of each id goes on, later ones are dropped.
package processdedup

import "github.com/gofka/streams"

// dedup forwards an event the first time its id is seen, and remembers when.
func dedup(ctx *streams.ProcessorContext[string, string], id, payload string, seen *streams.KeyValueStore[string, int64]) error {
	_, found, err := seen.Get(id)
	if err != nil || found {
		return err
	}
	ctx.Forward(id, payload)
	return seen.Put(id, ctx.Timestamp().UnixMilli())
}

//gofka:topology
func Dedup(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "events").
		Process(dedup, streams.RocksDBStore("seen-ids")).
		To("unique-events")
}
