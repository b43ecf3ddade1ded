// Package tablegroupbyaggregate ports the scenarios of Kafka Streams' KTableAggregateTest
// (with its record cache off, so that every update is seen): a table re-keyed
// by GroupBy and aggregated with an adder and a subtractor. Each change goes
// through a repartition topic as the old row to subtract from its old group,
// then the new row to add to its new group.
package tablegroupbyaggregate

import (
	"strings"

	"github.com/gofka/streams"
)

func sameKey(k, v string) (string, string) { return k, v }

func init0() string { return "0" }

func toStringAdder(_ string, v, agg string) string { return agg + "+" + v }

func toStringRemover(_ string, v, agg string) string { return agg + "-" + v }

// AggBasic is KTableAggregateTest.testAggBasic.
//
//gofka:topology
func AggBasic(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.String()), "topic1", streams.InMemoryStore("topic1-store")).
		GroupBy(sameKey).
		Aggregate(init0, toStringAdder, toStringRemover, streams.InMemoryStore("topic1-canonized")).
		ToStream().To("agg-basic")
}

func valueAsKey(_, v string) (string, string) { return v, v }

// Count is KTableAggregateTest.testCount.
//
//gofka:topology
func Count(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.String()), "count-test-input", streams.InMemoryStore("colours")).
		GroupBy(valueAsKey).
		Count(streams.RocksDBStore("count")).
		ToStream().To("counts")
}

func digits(k, _ string) (string, string) { return k[:1], k[1:2] }

func empty() string { return "" }

func appendValue(_ string, v, agg string) string { return agg + v }

func removeValue(_ string, v, agg string) string { return strings.ReplaceAll(agg, v, "") }

// RemoveOldBeforeAddNew is KTableAggregateTest.testRemoveOldBeforeAddNew.
//
//gofka:topology
func RemoveOldBeforeAddNew(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.String()), "remove-input", streams.InMemoryStore("remove-input-store")).
		GroupBy(digits).
		Aggregate(empty, appendValue, removeValue, streams.InMemoryStore("some-store")).
		ToStream().To("removed")
}

func category(k string, price int64) (string, int64) {
	c, _, _ := strings.Cut(k, "/")
	return c, price
}

func plus(agg, v int64) int64 { return agg + v }

func minus(agg, v int64) int64 { return agg - v }

// Totals sums the prices of the products of each category with Reduce.
//
//gofka:topology
func Totals(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.Int64()), "prices", streams.InMemoryStore("prices-store")).
		GroupBy(category).
		Reduce(plus, minus, streams.InMemoryStore("category-totals")).
		ToStream().To("category-totals")
}
