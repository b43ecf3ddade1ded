package errtimestampextractor

import (
	"time"

	"github.com/gofka/streams"
)

type Reading struct {
	Sensor string
	At     int64
}

// readAt returns milliseconds: WithTimestamp wants a time.Time.
func readAt(_ string, r Reading) int64 { return r.At }

// readAtValue takes only the value: WithTimestamp wants the key too.
func readAtValue(r Reading) time.Time { return time.UnixMilli(r.At) }

//gofka:topology
func Readings(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Reading]()).WithTimestamp(readAt), "readings").
		To("copies")
	b.Table(streams.With(streams.String(), streams.JSON[Reading]()).WithTimestamp(readAtValue), "latest", streams.InMemoryStore("latest")).
		ToStream().
		To("latest-copies")
}
