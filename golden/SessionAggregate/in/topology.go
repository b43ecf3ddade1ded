// Package sessionaggregate joins the pages a user views within 2 ms of each
// other into sessions (the driver gives the records consecutive milliseconds), with
// Aggregate and its SessionMerger, and counts them with Count too.
package sessionaggregate

import (
	"time"

	"github.com/gofka/streams"
)

func empty() string { return "" }

func addPage(user, page, pages string) string { return pages + page }

func mergePages(user, a, b string) string { return a + b }

//gofka:topology
func SessionAggregate(b *streams.StreamsBuilder) {
	g := b.Stream(streams.With(streams.String(), streams.String()), "views").GroupByKey()
	g.WindowedBy(streams.SessionWindows(2*time.Millisecond)).
		Aggregate(empty, addPage, streams.RocksDBStore("pages-per-session"), streams.SessionMerger(mergePages)).
		ToStream().
		To("pages-per-session")
	g.WindowedBy(streams.SessionWindows(2 * time.Millisecond)).
		Count(streams.RocksDBStore("views-per-session")).
		ToStream().
		To("views-per-session")
}
