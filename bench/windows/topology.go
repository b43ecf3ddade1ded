package windows

// The generated side of the comparison (doc.go): the same windowed counts as
// Handwritten, tumbling (1 minute) and hopping (10 s, advancing 2 s), with the
// input's 30 s grace (Grace); and, for the report only, a session count (gap 30 s).

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

//gofka:topology
func TumblingCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "events").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute).Grace(30 * time.Second)).
		Count(streams.InMemoryStore("per-minute")).
		ToStream().
		To("per-minute")
}

//gofka:topology
func HoppingCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "events").
		GroupByKey().
		WindowedBy(streams.HoppingWindows(10*time.Second, 2*time.Second).Grace(30 * time.Second)).
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
