// Package errnegativegrace gives a window a negative grace period.
package errnegativegrace

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func Grace(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute).Grace(-time.Second)).
		Count(streams.RocksDBStore("grace")).
		ToStream().
		To("grace")
}
