// Command sessions counts each user's clicks per session: a session ends after
// five minutes without a click, and a late click that bridges two sessions merges
// them, as Kafka Streams' session windows do.
//
//	clicks (key: user, value: anything)
//	  │
//	  ├─ GroupByKey
//	  ├─ WindowedBy(SessionWindows(5 * time.Minute).Grace(time.Minute))
//	  ├─ Count into store clicks-per-session     ──late──▶ late-clicks
//	  └─ ToStream
//	  ▼
//	clicks-per-session (key: Windowed[user] in Kafka Streams' session layout:
//	                    the user, the session's end, its start; value: int64 count)
//
// A merged session's new count is written under its new bounds, after a
// tombstone (a nil value) for each session it replaced, as Kafka Streams does.
//
// # Running it
//
//	go generate && go build && ./sessions
package main

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

//gofka:topology
func Sessions(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Bytes()), "clicks").
		GroupByKey().
		WindowedBy(streams.SessionWindows(5*time.Minute).Grace(time.Minute)).
		Count(streams.RocksDBStore("clicks-per-session"), streams.LateRecordsTo("late-clicks")).
		ToStream().
		To("clicks-per-session")
}
