// Package errsuppressunbounded suppresses an unwindowed table without bounding the
// buffer, and asks an unwindowed table to wait until its windows close.
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
