// Command pageviews counts the views of each page per minute: a tumbling windowed
// count, as a Gofka Streams topology.
//
// Each record of page-views is keyed by the page; its timestamp is when the page
// was viewed. Views are counted per page in one-minute windows aligned to the
// epoch, accepting views up to 10 seconds late (by stream time: the latest view
// time seen). Every update of a window's count is written to page-views-per-minute
// with the key streams.Windowed[string] (Kafka Streams' time-windowed layout:
// the page's bytes, then the window start as 8 bytes big-endian milliseconds);
// later views are not counted but written unchanged to late-page-views.
//
//	page-views (key: page, value: anything)
//	  │
//	  ├─ GroupByKey
//	  ├─ WindowedBy(TumblingWindows(time.Minute).Grace(10 * time.Second))
//	  ├─ Count into store views-per-minute      ──late──▶ late-page-views
//	  └─ ToStream
//	  ▼
//	page-views-per-minute (key: Windowed[page], value: int64 count)
//
// Emit-final (one record per window once it closes, with
// Suppress(streams.UntilWindowCloses())) is not generated yet: see issue 14.
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
	b.Stream(streams.With(streams.String(), streams.Bytes()), "page-views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute).Grace(10*time.Second)).
		Count(streams.RocksDBStore("views-per-minute"), streams.LateRecordsTo("late-page-views")).
		ToStream().
		To("page-views-per-minute")
}
