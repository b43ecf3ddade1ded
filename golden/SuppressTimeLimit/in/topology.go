// Package suppresstimelimit ports the scenarios of Kafka Streams'
// SuppressScenarioTest for Suppress(UntilTimeLimit(d, maxRecords)) on a table:
// shouldImmediatelyEmitEventsWithZeroEmitAfter,
// shouldSuppressIntermediateEventsWithTimeLimit and
// shouldSuppressIntermediateEventsWithRecordLimit. There the table is a count
// of a table's values (table.groupBy(...).count()), whose updates the test
// lists as output-raw; our DSL has no KTable.GroupBy, so the tables here read
// those very updates, same keys, counts and timestamps, from a topic, and
// Suppress gets the same input as in the test. Its unbounded buffers are
// bounds of 1,000 keys here (an unwindowed table needs a bound), which the
// scenarios never reach; Long.MAX_VALUE ms is 100 years. WindowedTimeLimit
// suppresses a windowed count the same way, unbounded (maxRecords 0).
package suppresstimelimit

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func ZeroEmitAfter(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.Int64()), "zero-raw", streams.InMemoryStore("zero-counts")).
		Suppress(streams.UntilTimeLimit(0, 1000)).
		ToStream().
		To("zero-suppressed")
}

//gofka:topology
func TimeLimit(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.Int64()), "time-raw", streams.InMemoryStore("time-counts")).
		Suppress(streams.UntilTimeLimit(2*time.Millisecond, 1000)).
		ToStream().
		To("time-suppressed")
}

//gofka:topology
func RecordLimit(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.Int64()), "records-raw", streams.InMemoryStore("records-counts")).
		Suppress(streams.UntilTimeLimit(100*365*24*time.Hour, 1)).
		ToStream().
		To("records-suppressed")
}

//gofka:topology
func WindowedTimeLimit(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(10 * time.Millisecond)).
		Count(streams.RocksDBStore("views-per-window")).
		Suppress(streams.UntilTimeLimit(2*time.Millisecond, 0)).
		ToStream().
		To("views-suppressed")
}
