// Package slidingcount counts page views per user in sliding windows with a
// time difference of 2 ms and a grace of 1 ms (Kafka Streams' SlidingWindows:
// a window [t-2, t] ends at each record, and [t+1, t+3] starts right after a
// record that has a later one within 2 ms), with late records to a topic, and
// labels each window readably with Map.
package slidingcount

import (
	"strconv"
	"time"

	"github.com/gofka/streams"
)

// label turns a window into a readable key: "ann@3-5".
func label(w streams.Windowed[string], n int64) (string, int64) {
	return w.Key + "@" + strconv.FormatInt(w.Start.UnixMilli(), 10) + "-" + strconv.FormatInt(w.End.UnixMilli(), 10), n
}

//gofka:topology
func SlidingCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.SlidingWindows(2*time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("views-sliding"), streams.LateRecordsTo("late-views")).
		ToStream().
		Map(label).
		To("views-labelled")
}
