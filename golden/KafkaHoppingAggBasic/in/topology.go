// Package kafkahoppingaggbasic ports the scenario of Kafka Streams'
// KStreamWindowAggregateTest.testAggBasic: string values concatenated per key in
// hopping windows of 10 ms advancing by 5 ms. The driver gives the records
// timestamps 0, 1, 2, ... as the test does for its first 15 records; its expected
// output for them is want/output.txt. (The test's last three records arrive out of
// order, which input.txt cannot say; examples/pageviews tests out-of-order input.)
// The grace is a day, Kafka Streams' old default, under which the test was written.
package kafkahoppingaggbasic

import (
	"time"

	"github.com/gofka/streams"
)

func initial() string { return "0" }

func toStringAdder(key, value, agg string) string { return agg + "+" + value }

//gofka:topology
func AggBasic(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "topic1").
		GroupByKey().
		WindowedBy(streams.HoppingWindows(10*time.Millisecond, 5*time.Millisecond).Grace(24*time.Hour)).
		Aggregate(initial, toStringAdder, streams.RocksDBStore("topic1-Canonized")).
		ToStream().
		To("out")
}
