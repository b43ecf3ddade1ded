// Package errsuppressunbounded suppresses an unwindowed table without bounding the
// buffer, asks an unwindowed table to wait until its windows close, gives an
// unwindowed Count a late-records topic, and suppresses count windows, which
// close by count, not time.
package errsuppressunbounded

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func Suppressed(b *streams.StreamsBuilder) {
	g := b.Stream(streams.With(streams.String(), streams.String()), "views").GroupByKey()
	g.Count(streams.RocksDBStore("totals")).
		Suppress(streams.UntilTimeLimit(time.Minute, 0)).
		ToStream().
		To("totals")
	g.Count(streams.RocksDBStore("finals")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		To("finals")
}

//gofka:topology
func WindowOptions(b *streams.StreamsBuilder) {
	g := b.Stream(streams.With(streams.String(), streams.String()), "clicks").GroupByKey()
	g.Count(streams.RocksDBStore("clicks"), streams.LateRecordsTo("late")).
		ToStream().
		To("clicks-total")
	g.WindowedBy(streams.CountWindows(10)).
		Count(streams.RocksDBStore("per-10")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		To("per-10")
}
