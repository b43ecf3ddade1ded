// Package kafkasuppressfinal ports the window-close scenarios of Kafka Streams'
// SuppressScenarioTest: shouldSupportFinalResultsForTimeWindows (tumbling 2 ms,
// grace 1 ms), shouldSupportFinalResultsForSlidingWindows (time difference 5 ms,
// grace 15 ms) and shouldSupportFinalResultsForSessionWindows (gap 5 ms, no
// grace): a count per key, its every update to a raw topic and its final
// results to a suppressed one, each key written as Kafka's Windowed.toString()
// ("[k1@0/2]"). Same input, same expected output, with two differences:
// Kafka's test sorts the sliding raw updates (want/output.txt has them in
// forwarding order), and its session raw output has two null values, the
// deletes of the sessions [0,0] and [0,5] a record merged away, which our Map
// does not see (Go values have no null: a delete stops before a user function).
package kafkasuppressfinal

import (
	"fmt"
	"time"

	"github.com/gofka/streams"
)

// toString is Kafka Streams' Windowed.toString: "[key@start/end]".
func toString(w streams.Windowed[string], n int64) (string, int64) {
	return fmt.Sprintf("[%s@%d/%d]", w.Key, w.Start.UnixMilli(), w.End.UnixMilli()), n
}

//gofka:topology
func TimeWindows(b *streams.StreamsBuilder) {
	counts := b.Stream(streams.With(streams.String(), streams.String()), "time-input").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(2 * time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("time-counts"))
	counts.Suppress(streams.UntilWindowCloses()).ToStream().Map(toString).To("time-suppressed")
	counts.ToStream().Map(toString).To("time-raw")
}

//gofka:topology
func SlidingWindows(b *streams.StreamsBuilder) {
	counts := b.Stream(streams.With(streams.String(), streams.String()), "sliding-input").
		GroupByKey().
		WindowedBy(streams.SlidingWindows(5 * time.Millisecond).Grace(15 * time.Millisecond)).
		Count(streams.RocksDBStore("sliding-counts"))
	counts.Suppress(streams.UntilWindowCloses()).ToStream().Map(toString).To("sliding-suppressed")
	counts.ToStream().Map(toString).To("sliding-raw")
}

//gofka:topology
func SessionWindows(b *streams.StreamsBuilder) {
	counts := b.Stream(streams.With(streams.String(), streams.String()), "session-input").
		GroupByKey().
		WindowedBy(streams.SessionWindows(5 * time.Millisecond)).
		Count(streams.RocksDBStore("session-counts"))
	counts.Suppress(streams.UntilWindowCloses()).ToStream().Map(toString).To("session-suppressed")
	counts.ToStream().Map(toString).To("session-raw")
}
