// Package tablefilter ports Kafka Streams' KTableFilterTest: a table of int64
// values, filtered to its even values, and FilterNot'ed, turned back into
// streams. A row that stops passing becomes a delete, which ToStream forwards
// and To writes as a tombstone; MapValues passes deletes on without calling its
// function.
package tablefilter

import "github.com/gofka/streams"

func isEven(_ string, v int64) bool { return v%2 == 0 }

func double(v int64) int64 { return 2 * v }

//gofka:topology
func Filters(b *streams.StreamsBuilder) {
	t := b.Table(streams.With(streams.String(), streams.Int64()), "table1", streams.InMemoryStore("table1-store"))
	t.Filter(isEven).ToStream().To("even")
	t.FilterNot(isEven).MapValues(double).ToStream().MapValues(double).To("odd-times-four")
}
