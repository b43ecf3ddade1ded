// Package sessionsuppressfinal counts views per user in sessions (inactivity gap
// 2 ms, grace 1 ms) and emits one final count per session with
// Suppress(streams.UntilWindowCloses()): once stream time reaches the session's
// end plus gap plus grace (Kafka Streams' rule for session windows). A session
// merged into a later one is never emitted.
package sessionsuppressfinal

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func SessionSuppressFinal(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		GroupByKey().
		WindowedBy(streams.SessionWindows(2*time.Millisecond).Grace(time.Millisecond)).
		Count(streams.RocksDBStore("views-per-session"), streams.LateRecordsTo("late-views")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		To("final-views")
}
