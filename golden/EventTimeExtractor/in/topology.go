// Package eventtimeextractor reads its records' event time from the value with
// a timestamp extractor on the source; a time before the Unix epoch makes the
// record bad.
package eventtimeextractor

import (
	"time"

	"github.com/gofka/streams"
)

// Reading is a sensor reading stamped by the sensor.
type Reading struct {
	Sensor string `json:"sensor"`
	At     int64  `json:"at"` // milliseconds since the Unix epoch
	Value  int64  `json:"value"`
}

func readAt(_ string, r Reading) time.Time { return time.UnixMilli(r.At) }

func positive(_ string, r Reading) bool { return r.Value > 0 }

func sensor(_ string, r Reading) string { return r.Sensor }

//gofka:topology
func Readings(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Reading]()).WithTimestamp(readAt), "readings").
		Filter(positive).
		GroupBy(sensor).
		Count(streams.InMemoryStore("positive-readings")).
		ToStream().
		To("positive-reading-counts")
}
