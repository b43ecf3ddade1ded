// Command eventtime counts the views of each page by event time: the time a
// view happened, carried in the record, not the time it reached Kafka.
//
//	page-views (key: user, value: JSON PageView with its time in viewed_at)
//	  │  event time = viewed_at (WithTimestamp); watermark = latest time − 5 s (WithWatermark),
//	  │  a partition quiet for a minute no longer holds the others back
//	  ├─ GroupBy(page)
//	  │     ═══ repartition topic event-time-views-by-page-repartition (watermarks travel with it) ═══
//	  ├─ Count into store views-by-page
//	  └─ ToStream
//	  ▼
//	views-by-page (key: page, value: int64 count)
//
// Every output record carries the event time of the view it counts.
//
// # Running it
//
//	go generate && go build && ./eventtime
//
// starts an embedded broker on 127.0.0.1:9092. Write views and read the counts:
//
//	echo 'ann:{"page":"/home","viewed_at":1767225600000}' | kcat -P -b 127.0.0.1:9092 -t page-views -K:
//	kcat -C -b 127.0.0.1:9092 -t views-by-page -e -f '%k %s %T\n' -s value=Q
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"time"

	"github.com/gofka/streams"
)

// PageView is one view of a page, stamped by the web server that served it.
type PageView struct {
	Page     string `json:"page"`
	ViewedAt int64  `json:"viewed_at"` // milliseconds since the Unix epoch
}

// viewedAt is a view's event time.
func viewedAt(user string, v PageView) time.Time { return time.UnixMilli(v.ViewedAt) }

// page makes the page the key: views of one page meet in one task.
func page(user string, v PageView) string { return v.Page }

// EventTime counts views per page, by event time.
//
//gofka:topology
func EventTime(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[PageView]()).WithTimestamp(viewedAt).WithWatermark(5*time.Second, time.Minute), "page-views").
		GroupBy(page).
		Count(streams.RocksDBStore("views-by-page")).
		ToStream().
		To("views-by-page")
}
