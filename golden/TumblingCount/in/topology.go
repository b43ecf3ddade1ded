// Package tumblingcount counts page views per user in tumbling windows of 3 ms
// (the driver gives the records consecutive milliseconds), with late records to a
// topic, and turns the windowed key into a plain one with Map.
package tumblingcount

import (
	"strconv"
	"time"

	"github.com/gofka/streams"
)

// label turns a window into a readable key: "ann@3-6".
func label(w streams.Windowed[string], n int64) (string, int64) {
	return w.Key + "@" + strconv.FormatInt(w.Start.UnixMilli()%1000, 10) + "-" + strconv.FormatInt(w.End.UnixMilli()%1000, 10), n
}

//gofka:topology
func TumblingCount(b *streams.StreamsBuilder) {
	counts := b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(3*time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("views-per-window"), streams.LateRecordsTo("late-views")).
		ToStream()
	counts.To("views-windowed")
	counts.Map(label).To("views-labelled")
}
