// Package watermarkwindows counts views per page in tumbling windows of 10 s
// with no grace, closed by the source's watermark (5 s behind the latest view
// of the partition) rather than by stream time, and emits one final count per
// window: a view 3 s behind stream time still counts, as the watermark has not
// passed its window.
package watermarkwindows

import (
	"fmt"
	"time"

	"github.com/gofka/streams"
)

// View is a page view stamped with its time.
type View struct {
	At int64 `json:"at"` // milliseconds since the Unix epoch
}

func viewedAt(_ string, v View) time.Time { return time.UnixMilli(v.At) }

// pageSecond names a window by its page and its start in seconds.
func pageSecond(w streams.Windowed[string], n int64) (string, int64) {
	return fmt.Sprintf("%s@%d", w.Key, w.Start.Unix()), n
}

//gofka:topology
func WatermarkWindows(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[View]()).WithTimestamp(viewedAt).WithWatermark(5*time.Second, 0), "views").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(10 * time.Second)).
		Count(streams.InMemoryStore("views-per-10s")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Map(pageSecond).
		To("final-counts")
}
