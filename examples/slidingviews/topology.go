// Command slidingviews counts the views of each page in sliding windows of 5
// seconds: Kafka Streams' SlidingWindows, as a Gofka Streams topology.
//
// Each record of page-views is keyed by the page; its timestamp is when the page
// was viewed. A sliding window [start, start+5 s] (both ends inclusive) ends at
// each view, and one starts 1 ms after a view that has a later one within 5 s,
// so every set of views of a page that fall within 5 s of each other has its
// window. Views up to 10 s out of order are counted (by stream time: the
// latest view time seen); a view whose every window has closed is not counted
// but written unchanged to late-page-views. Every update of a window's count is
// written to page-views-sliding with the key streams.Windowed[string] (Kafka
// Streams' time-windowed layout: the page's bytes, then the window start as 8
// bytes big-endian milliseconds).
//
//	page-views (key: page, value: anything)
//	  │
//	  ├─ GroupByKey
//	  ├─ WindowedBy(SlidingWindows(5 * time.Second).Grace(10 * time.Second))
//	  ├─ Count into store views-sliding      ──late──▶ late-page-views
//	  └─ ToStream ─▶ page-views-sliding (key: Windowed[page], value: int64 count)
//
// # Running it
//
//	go generate && go build && ./slidingviews
package main

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

//gofka:topology
func SlidingViews(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "page-views").
		GroupByKey().
		WindowedBy(streams.SlidingWindows(5*time.Second).Grace(10*time.Second)).
		Count(streams.RocksDBStore("views-sliding"), streams.LateRecordsTo("late-page-views")).
		ToStream().
		To("page-views-sliding")
}
