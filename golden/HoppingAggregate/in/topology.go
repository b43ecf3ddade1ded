// Package hoppingaggregate sums order amounts per customer in hopping windows of
// 4 ms advancing by 2 ms: each record falls in two windows.
package hoppingaggregate

import (
	"time"

	"github.com/gofka/streams"
)

func zero() int64 { return 0 }

func add(customer string, amount int64, sum int64) int64 { return sum + amount }

//gofka:topology
func HoppingAggregate(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Int64()), "orders").
		GroupByKey().
		WindowedBy(streams.HoppingWindows(4*time.Millisecond, 2*time.Millisecond)).
		Aggregate(zero, add, streams.RocksDBStore("sums")).
		ToStream().
		To("sums")
}
