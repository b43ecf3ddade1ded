// Command pageviews counts the views of each page per minute: a tumbling windowed
// count, as a Gofka Streams topology, emitted both as every update and as one
// final count per window.
//
// Each record of page-views is keyed by the page; its timestamp is when the page
// was viewed. Views are counted per page in one-minute windows aligned to the
// epoch, accepting views up to 10 seconds late (by stream time: the latest view
// time seen). Every update of a window's count is written to page-views-per-minute
// with the key streams.Windowed[string] (Kafka Streams' time-windowed layout:
// the page's bytes, then the window start as 8 bytes big-endian milliseconds);
// later views are not counted but written unchanged to late-page-views. Once
// stream time passes a window's end plus the grace, its final count goes to
// page-views-per-minute-final: exactly one record per window.
//
//	page-views (key: page, value: anything)
//	  │
//	  ├─ GroupByKey
//	  ├─ WindowedBy(TumblingWindows(time.Minute).Grace(10 * time.Second))
//	  ├─ Count into store views-per-minute      ──late──▶ late-page-views
//	  ├─ ToStream ─▶ page-views-per-minute (key: Windowed[page], value: int64 count)
//	  └─ Suppress(UntilWindowCloses()) into store views-per-minute-suppress
//	     └─ ToStream ─▶ page-views-per-minute-final (one final count per window)
//
// # Running it
//
//	go generate && go build && ./pageviews
package main

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

//gofka:topology
func PageViews(b *streams.StreamsBuilder) {
	counts := b.Stream(streams.With(streams.String(), streams.Bytes()), "page-views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute).Grace(10*time.Second)).
		Count(streams.RocksDBStore("views-per-minute"), streams.LateRecordsTo("late-page-views"))
	counts.ToStream().To("page-views-per-minute")
	counts.Suppress(streams.UntilWindowCloses()).ToStream().To("page-views-per-minute-final")
}
