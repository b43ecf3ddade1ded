// Package windows measures the generated code of windowed counts (issue 14,
// point 10) against a hand-written Go loop doing the same windowing: a tumbling
// count (1-minute windows) and a hopping count (size 10 s, advance 2 s), over
// 10,000 keys and records 1% out of order within the grace; and, for the report, a
// session count (gap 30 s).
package windows

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

//gofka:topology
func TumblingCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "events").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute).Grace(10 * time.Second)).
		Count(streams.InMemoryStore("per-minute")).
		ToStream().
		To("per-minute")
}

//gofka:topology
func HoppingCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "events").
		GroupByKey().
		WindowedBy(streams.HoppingWindows(10*time.Second, 2*time.Second).Grace(10 * time.Second)).
		Count(streams.InMemoryStore("hopping")).
		ToStream().
		To("hopping")
}

//gofka:topology
func SessionCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "events").
		GroupByKey().
		WindowedBy(streams.SessionWindows(30 * time.Second).Grace(10 * time.Second)).
		Count(streams.InMemoryStore("sessions")).
		ToStream().
		To("sessions")
}
