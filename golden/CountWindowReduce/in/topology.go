// Package countwindowreduce sums readings per sensor in count windows of 3
// readings: a sensor's first three readings make its first window, the next three
// its second, and so on. The windowed key's bounds are the times of the window's
// first and latest readings; a Map turns it into "sensor#window-start".
package countwindowreduce

import (
	"strconv"

	"github.com/gofka/streams"
)

func sum(agg, v int64) int64 { return agg + v }

func label(w streams.Windowed[string], total int64) (string, int64) {
	return w.Key + "@" + strconv.FormatInt(w.Start.UnixMilli(), 10) + "-" + strconv.FormatInt(w.End.UnixMilli(), 10), total
}

//gofka:topology
func CountWindowReduce(b *streams.StreamsBuilder) {
	sums := b.Stream(streams.With(streams.String(), streams.Int64()), "readings").
		GroupByKey().
		WindowedBy(streams.CountWindows(3)).
		Reduce(sum, streams.RocksDBStore("sums-per-3")).
		ToStream()
	sums.To("sums")
	sums.Map(label).To("labelled-sums")
}
