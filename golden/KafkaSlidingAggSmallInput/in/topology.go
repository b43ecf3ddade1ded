// Package kafkaslidingaggsmallinput ports the scenarios of Kafka Streams'
// KStreamSlidingWindowAggregateTest.testAggregateSmallInput and
// testReduceSmallInput (emit on every update): sliding windows with a time
// difference of 10 ms and a grace of 5 ms, string values concatenated per key
// by Aggregate (from "0") and by Reduce. Key A goes to the aggregation, key R
// (the reduce test's input) to the reduction. The test compares a set of
// updates per window start; want/output.txt lists the same updates in the order
// they are forwarded.
package kafkaslidingaggsmallinput

import (
	"time"

	"github.com/gofka/streams"
)

func initial() string { return "0" }

func toStringAdder(key, value, agg string) string { return agg + "+" + value }

func stringAdder(agg, value string) string { return agg + "+" + value }

func isA(key, value string) bool { return key == "A" }

func isR(key, value string) bool { return key == "R" }

//gofka:topology
func AggSmallInput(b *streams.StreamsBuilder) {
	in := b.Stream(streams.With(streams.String(), streams.String()), "topic")
	in.Filter(isA).
		GroupByKey().
		WindowedBy(streams.SlidingWindows(10*time.Millisecond).Grace(5*time.Millisecond)).
		Aggregate(initial, toStringAdder, streams.RocksDBStore("aggregated")).
		ToStream().
		To("aggregated")
	in.Filter(isR).
		GroupByKey().
		WindowedBy(streams.SlidingWindows(10*time.Millisecond).Grace(5*time.Millisecond)).
		Reduce(stringAdder, streams.RocksDBStore("reduced")).
		ToStream().
		To("reduced")
}
