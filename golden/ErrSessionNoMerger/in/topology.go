// Package errsessionnomerger aggregates over session windows without saying how
// to merge two sessions a record bridges.
package errsessionnomerger

import (
	"time"

	"github.com/gofka/streams"
)

func zero() int64 { return 0 }

func add(user string, v string, agg int64) int64 { return agg + int64(len(v)) }

//gofka:topology
func Sessions(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.SessionWindows(5*time.Minute)).
		Aggregate(zero, add, streams.RocksDBStore("sessions")).
		ToStream().
		To("sessions")
}
