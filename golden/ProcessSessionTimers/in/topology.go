// Package processsessiontimers ends each user's click session with a per-key
// event-time timer: 10 s of stream time after a user's last click, a
// "session ended" record goes out.
package processsessiontimers

import (
	"fmt"
	"time"

	"github.com/gofka/streams"
)

// Click is a click stamped by the browser.
type Click struct {
	At int64 `json:"at"` // milliseconds since the Unix epoch
}

// Session is an open session.
type Session struct {
	Start  int64 `json:"start"`
	Last   int64 `json:"last"`
	Clicks int64 `json:"clicks"`
}

const gap = 10 * time.Second

func clickAt(_ string, c Click) time.Time { return time.UnixMilli(c.At) }

func ended(s Session) string {
	return fmt.Sprintf("session ended: %d clicks from %d to %d", s.Clicks, s.Start, s.Last)
}

// track extends the user's session, or starts one, and moves its timer to gap
// after the click. A click may come after its session's timer time before the
// timer fired (timers fire after the record that passes them): that session is
// over, so it is ended here.
func track(ctx *streams.ProcessorContext[string, string], user string, _ Click, sessions *streams.KeyValueStore[string, Session]) error {
	at := ctx.Timestamp().UnixMilli()
	s, found, err := sessions.Get(user)
	if err != nil {
		return err
	}
	if found {
		if err := ctx.DeleteEventTimeTimer(time.UnixMilli(s.Last).Add(gap)); err != nil {
			return err
		}
		if at-s.Last > gap.Milliseconds() {
			ctx.ForwardAt(user, ended(s), time.UnixMilli(s.Last).Add(gap))
			found = false
		}
	}
	if found {
		s.Last, s.Clicks = at, s.Clicks+1
	} else {
		s = Session{Start: at, Last: at, Clicks: 1}
	}
	if err := sessions.Put(user, s); err != nil {
		return err
	}
	return ctx.RegisterEventTimeTimer(time.UnixMilli(at).Add(gap))
}

// sessionEnded sends the ended session on and forgets it.
func sessionEnded(ctx *streams.ProcessorContext[string, string], timer streams.Timer[string], sessions *streams.KeyValueStore[string, Session]) error {
	s, found, err := sessions.Get(timer.Key)
	if err != nil || !found {
		return err
	}
	ctx.Forward(timer.Key, ended(s))
	return sessions.Delete(timer.Key)
}

//gofka:topology
func Sessions(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()).WithTimestamp(clickAt), "clicks").
		Process(streams.Processor(track).OnTimer(sessionEnded), streams.RocksDBStore("sessions")).
		To("sessions-ended")
}
