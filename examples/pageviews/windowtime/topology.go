// Package windowtime holds topologies in which a task reads records that never
// reach a windowed step: a Filter drops them, or a Branch sends them to
// another aggregation. Kafka Streams' windowed aggregations and suppressions
// keep their own stream time (observedStreamTime), which only the records
// reaching them advance, so those records close no window, make no later
// record late and release no suppressed result (windowtime_test.go).
package windowtime

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

// kept drops the records valued "skip".
func kept(k, v string) bool { return v != "skip" }

func isA(k, v string) bool { return strings.HasPrefix(v, "a") }

func notA(k, v string) bool { return !strings.HasPrefix(v, "a") }

// toString is Kafka Streams' Windowed.toString: "[key@start/end]".
func toString(w streams.Windowed[string], n int64) (string, int64) {
	return fmt.Sprintf("[%s@%d/%d]", w.Key, w.Start.UnixMilli(), w.End.UnixMilli()), n
}

// Filtered counts the kept records of views per key in tumbling windows
// (10 ms, grace 2 ms; every update to tumbling-raw, the final counts to
// tumbling-final), in sessions (gap 5 ms), in sliding windows (5 ms), and in
// all, suppressed until 5 ms of stream time have passed since a key's first
// waiting update.
//
//gofka:topology
func Filtered(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views").Filter(kept).GroupByKey()
	tumbling := views.WindowedBy(streams.TumblingWindows(10 * time.Millisecond).Grace(2 * time.Millisecond)).
		Count(streams.RocksDBStore("tumbling-counts"))
	tumbling.ToStream().Map(toString).To("tumbling-raw")
	tumbling.Suppress(streams.UntilWindowCloses()).ToStream().Map(toString).To("tumbling-final")
	views.WindowedBy(streams.SessionWindows(5 * time.Millisecond)).
		Count(streams.RocksDBStore("session-counts")).
		ToStream().Map(toString).To("session-raw")
	views.WindowedBy(streams.SlidingWindows(5 * time.Millisecond)).
		Count(streams.RocksDBStore("sliding-counts")).
		ToStream().Map(toString).To("sliding-raw")
	views.Count(streams.InMemoryStore("totals")).
		Suppress(streams.UntilTimeLimit(5*time.Millisecond, 1000)).
		ToStream().To("totals-limited")
}

// Branched counts the records of clicks in tumbling windows (10 ms, grace
// 2 ms) in one aggregation for the values starting with "a", in another for
// the rest.
//
//gofka:topology
func Branched(b *streams.StreamsBuilder) {
	parts := b.Stream(streams.With(streams.String(), streams.String()), "clicks").Branch(isA, notA)
	parts[0].GroupByKey().WindowedBy(streams.TumblingWindows(10 * time.Millisecond).Grace(2 * time.Millisecond)).
		Count(streams.RocksDBStore("a-counts")).ToStream().Map(toString).To("a-raw")
	parts[1].GroupByKey().WindowedBy(streams.TumblingWindows(10 * time.Millisecond).Grace(2 * time.Millisecond)).
		Count(streams.RocksDBStore("b-counts")).ToStream().Map(toString).To("b-raw")
}
