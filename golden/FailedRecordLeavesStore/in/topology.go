// Package bugfailedrecordstate sums numbers per key with an Aggregate whose adder
// panics on a value that is not a number. A record that fails leaves the store as
// it was: a key whose records all failed has no aggregate.
package failedrecordleavesstore

import (
	"strconv"

	"github.com/gofka/streams"
)

func start() int64 { return 100 }

func add(key, value string, sum int64) int64 {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		panic(err)
	}
	return sum + n
}

//gofka:topology
func Sums(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "numbers").
		GroupByKey().
		Aggregate(start, add, streams.InMemoryStore("sums")).
		ToStream().
		To("sums")
}
