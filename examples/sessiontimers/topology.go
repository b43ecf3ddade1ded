// Command sessiontimers turns clicks into user sessions with the Processor API: a
// session is a user's clicks with no gap of 30 minutes of event time between
// them. Each click moves the user's event-time timer to 30 minutes after it;
// when stream time passes the timer, the session-ended event goes out. Every
// 10 s of wall-clock time a punctuator reports how many sessions are open in
// its task.
//
//	clicks (key: user id, value: JSON Click, event time: Click.AtMs)
//	  │
//	  └─ Process(track, OnTimer sessionEnded, every 10 s of wall-clock time reportOpen)
//	       stores "sessions" (user → open Session) and "open-sessions" ("open" → count);
//	       its timers in "sessions-timers"
//	       ─▶ session-events (key: user id, or "" for a report; value: JSON SessionEvent)
//
// The timers are kept in a store with a changelog, like the sessions, so a
// session whose timer is pending when the process dies ends exactly once after
// the restart (test/e2e's TestProcessorTimersSurviveSIGKILL).
//
// # Running it
//
//	go generate && go build && ./sessiontimers
//
// With no --brokers the binary starts an embedded broker on 127.0.0.1:9092.
// Produce clicks (key and value separated by '|'), then one for another user an
// hour later, which moves stream time past the first session's end:
//
//	printf '%s\n' \
//		'alice|{"page":"/","at_ms":1767261600000}' \
//		'alice|{"page":"/cart","at_ms":1767261660000}' \
//		'bob|{"page":"/","at_ms":1767265200000}' |
//		kcat -P -b 127.0.0.1:9092 -t clicks -K '|'
//	kcat -C -b 127.0.0.1:9092 -t session-events -e -f '%k %s\n'
//
// alice and bob share a partition of the three, so bob's click ends alice's
// session: {"kind":"ended","user":"alice","start_ms":1767261600000,"end_ms":1767261660000,"clicks":2}.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"time"

	"github.com/gofka/streams"
)

// Gap is the event time without a click after which a session ends.
const Gap = 30 * time.Minute

// Click is one click of a user.
type Click struct {
	Page string `json:"page"`
	AtMs int64  `json:"at_ms"` // milliseconds since the Unix epoch
}

// Session is an open session.
type Session struct {
	StartMs int64 `json:"start_ms"`
	LastMs  int64 `json:"last_ms"`
	Clicks  int64 `json:"clicks"`
}

// SessionEvent is what the topology writes: a session that ended, or a task's
// report of its open sessions.
type SessionEvent struct {
	Kind    string `json:"kind"` // "ended" or "open"
	User    string `json:"user,omitempty"`
	StartMs int64  `json:"start_ms,omitempty"`
	EndMs   int64  `json:"end_ms,omitempty"` // the session's last click
	Clicks  int64  `json:"clicks,omitempty"`
	Open    int64  `json:"open,omitempty"` // a report: the task's open sessions
}

func clickTime(_ string, c Click) time.Time { return time.UnixMilli(c.AtMs) }

func endedEvent(user string, s Session) SessionEvent {
	return SessionEvent{Kind: "ended", User: user, StartMs: s.StartMs, EndMs: s.LastMs, Clicks: s.Clicks}
}

// track adds a click to its user's session, or starts one, and moves the
// session's timer to Gap after the click. Timers fire after the record that
// moves stream time past them, so a click may find a session whose timer time
// it has passed: that session ends here, and the click starts a new one.
func track(ctx *streams.ProcessorContext[string, SessionEvent], user string, _ Click,
	sessions *streams.KeyValueStore[string, Session], open *streams.KeyValueStore[string, int64],
) error {
	at := ctx.Timestamp().UnixMilli()
	s, found, err := sessions.Get(user)
	if err != nil {
		return err
	}
	if found {
		if err := ctx.DeleteEventTimeTimer(time.UnixMilli(s.LastMs).Add(Gap)); err != nil {
			return err
		}
		if at-s.LastMs >= Gap.Milliseconds() {
			ctx.ForwardAt(user, endedEvent(user, s), time.UnixMilli(s.LastMs).Add(Gap))
			found = false
			if err := addOpen(open, -1); err != nil {
				return err
			}
		}
	}
	if found {
		s.LastMs, s.Clicks = max(s.LastMs, at), s.Clicks+1
	} else {
		s = Session{StartMs: at, LastMs: at, Clicks: 1}
		if err := addOpen(open, 1); err != nil {
			return err
		}
	}
	if err := sessions.Put(user, s); err != nil {
		return err
	}
	return ctx.RegisterEventTimeTimer(time.UnixMilli(s.LastMs).Add(Gap))
}

// sessionEnded sends the session of a timer that fired on, and forgets it.
func sessionEnded(ctx *streams.ProcessorContext[string, SessionEvent], timer streams.Timer[string],
	sessions *streams.KeyValueStore[string, Session], open *streams.KeyValueStore[string, int64],
) error {
	s, found, err := sessions.Get(timer.Key)
	if err != nil || !found {
		return err
	}
	ctx.Forward(timer.Key, endedEvent(timer.Key, s))
	if err := addOpen(open, -1); err != nil {
		return err
	}
	return sessions.Delete(timer.Key)
}

// reportOpen reports the task's open sessions.
func reportOpen(ctx *streams.ProcessorContext[string, SessionEvent],
	_ *streams.KeyValueStore[string, Session], open *streams.KeyValueStore[string, int64],
) error {
	n, _, err := open.Get("open")
	if err != nil {
		return err
	}
	ctx.Forward("", SessionEvent{Kind: "open", Open: n})
	return nil
}

func addOpen(open *streams.KeyValueStore[string, int64], delta int64) error {
	n, _, err := open.Get("open")
	if err != nil {
		return err
	}
	return open.Put("open", n+delta)
}

//gofka:topology
func Sessions(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()).WithTimestamp(clickTime), "clicks").
		Process(streams.Processor(track).OnTimer(sessionEnded).Punctuate(10*time.Second, streams.WallClockTime, reportOpen),
			streams.RocksDBStore("sessions"), streams.RocksDBStore("open-sessions")).
		To("session-events")
}
