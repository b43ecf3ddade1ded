// Package errprocess holds the mistakes gofkagen reports in Process steps, all at once.
package errprocess

import (
	"time"

	"github.com/gofka/streams"
)

// noContext lacks the context parameter.
func noContext(key, value string) error { return nil }

// oneStore takes one store.
func oneStore(ctx *streams.ProcessorContext[string, string], key, value string, s *streams.KeyValueStore[string, int64]) error {
	return nil
}

// mapStore takes a map where a store goes.
func mapStore(ctx *streams.ProcessorContext[string, string], key, value string, s map[string]int64) error {
	return nil
}

// forwardString forwards strings.
func forwardString(ctx *streams.ProcessorContext[string, string], key, value string) error {
	return nil
}

// forwardMore forwards strings too.
func forwardMore(ctx *streams.ProcessorContext[string, string], key, value string) error { return nil }

// timerInt64 forwards int64 values, unlike forwardString.
func timerInt64(ctx *streams.ProcessorContext[string, int64], timer streams.Timer[string]) error {
	return nil
}

// timerIntKey takes timers of int keys on a stream of string keys.
func timerIntKey(ctx *streams.ProcessorContext[string, string], timer streams.Timer[int]) error {
	return nil
}

// tick is a punctuator.
func tick(ctx *streams.ProcessorContext[string, string]) error { return nil }

// countStore is a store of counts.
func countStore(ctx *streams.ProcessorContext[string, string], key, value string, s *streams.KeyValueStore[string, string]) error {
	return nil
}

var interval = time.Second

//gofka:topology
func Mistakes(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "a").
		Process(noContext).
		To("a-out")
	b.Stream(streams.With(streams.String(), streams.String()), "b").
		Process(oneStore, streams.RocksDBStore("b-one"), streams.RocksDBStore("b-two")).
		To("b-out")
	b.Stream(streams.With(streams.String(), streams.String()), "c").
		Process(mapStore, streams.RocksDBStore("c-store")).
		To("c-out")
	b.Stream(streams.With(streams.String(), streams.String()), "d").
		Process(streams.Processor(forwardString).OnTimer(timerInt64)).
		To("d-out")
	b.Stream(streams.With(streams.String(), streams.String()), "e").
		Process(streams.Processor(forwardMore).OnTimer(timerIntKey)).
		To("e-out")
	b.Stream(streams.With(streams.String(), streams.String()), "f").
		Process(streams.Processor(forwardString).Punctuate(interval, streams.StreamTime, tick)).
		To("f-out")
	b.Stream(streams.With(streams.String(), streams.String()), "g").
		Process(countStore, streams.RocksDBStore("g-counts")).
		GroupByKey().
		Count(streams.RocksDBStore("g-counts"))
	b.Stream(streams.With(streams.String(), streams.String()), "h").
		Process(streams.Processor(func(ctx *streams.ProcessorContext[string, string], k, v string) error { return nil }).
			OnTimer(timerString)).
		To("h-out")
	b.Stream(streams.With(streams.String(), streams.String()), "i").
		Process(streams.Processor(oneStore).OnTimer(timerString).OnTimer(timerString), streams.RocksDBStore("i-store")).
		To("i-out")
	b.Stream(streams.With(streams.String(), streams.String()), "j").
		Process(streams.Processor(oneStore).Punctuate(time.Second, streams.WallClockTime, tick), streams.RocksDBStore("j-store")).
		To("j-out")
}

// timerString fits a stream of string keys and values, with no stores.
func timerString(ctx *streams.ProcessorContext[string, string], timer streams.Timer[string]) error {
	return nil
}
