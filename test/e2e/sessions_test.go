package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// sessionsBase is the event time of the first click of
// TestProcessorTimersSurviveSIGKILL.
var sessionsBase = time.Now().Add(-24 * time.Hour).Truncate(time.Hour).UnixMilli() // inside a broker's default retention (7 days)

const (
	sessionUsers  = 60
	sessionClicks = 3 // per user, a minute apart: one session each
	sessionsGroup = "sessions"
)

// TestProcessorTimersSurviveSIGKILL runs examples/sessiontimers (per-key event-time
// timers in a Processor) on a broker, under each guarantee. Every user's
// session is open, its timer pending, when the process is SIGKILLed after a
// commit; a new process, on an empty state directory (as on another machine:
// stores and timers come back from their changelogs), then reads clicks that
// move every partition's stream time past the timers. Each session must end
// exactly once under exactly-once (read_committed), at least once under
// at-least-once, with its three clicks. Then, with no more input, the
// wall-clock punctuator still reports the open sessions.
func TestProcessorTimersSurviveSIGKILL(t *testing.T) {
	for _, guarantee := range []string{"at-least-once", "exactly-once"} {
		t.Run(guarantee, func(t *testing.T) { timersSurviveSIGKILL(t, guarantee) })
	}
}

func timersSurviveSIGKILL(t *testing.T, guarantee string) {
	ctx := testContext(t, 120*time.Second)
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopics(ctx, 3, 1, nil, "clicks", "session-events"); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	bin := buildExample(ctx, t, "sessiontimers")
	run := func(name string) *proc {
		p := startBinary(t, bin, name, "--brokers", addr, "--state-dir", t.TempDir(), "--commit-interval", "200ms", "--guarantee", guarantee)
		if err := p.waitLog(ctx, "msg=consuming"); err != nil {
			t.Fatal(err)
		}
		return p
	}

	var clicks []*kgo.Record
	for u := range sessionUsers {
		for k := range sessionClicks {
			clicks = append(clicks, sessionClick(fmt.Sprintf("u%02d", u), sessionsBase+int64(u)*1000+int64(k)*60_000))
		}
	}
	app := run("sessions")
	produceSync(ctx, t, cl, clicks...)
	waitGroupCommitted(ctx, t, adm, app)
	if n := len(endedSessions(ctx, t, addr)); n != 0 {
		t.Fatalf("%d sessions ended before stream time reached their timers", n)
	}
	app.killGroup()

	// Clicks two hours later, one per partition, pass every timer.
	var ticks []*kgo.Record
	for p := range int32(3) {
		ticks = append(ticks, sessionClick(keyOnPartition(p, 3), sessionsBase+2*3600_000))
	}
	app = run("sessions-again")
	produceSync(ctx, t, cl, ticks...)
	waitGroupCommitted(ctx, t, adm, app)
	if err := poll(ctx, "every session ends", func() (bool, error) {
		return len(endedSessions(ctx, t, addr)) >= sessionUsers, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitGroupCommitted(ctx, t, adm, app)
	ended := endedSessions(ctx, t, addr)
	for u := range sessionUsers {
		user := fmt.Sprintf("u%02d", u)
		evs := ended[user]
		if len(evs) == 0 || (guarantee == "exactly-once" && len(evs) != 1) {
			t.Errorf("user %s: %d session-ended events, want exactly one (%s)", user, len(evs), guarantee)
			continue
		}
		first := sessionsBase + int64(u)*1000
		for _, ev := range evs {
			if ev.StartMs != first || ev.EndMs != first+(sessionClicks-1)*60_000 || ev.Clicks != sessionClicks {
				t.Errorf("user %s: ended %+v, want %d clicks from %d to %d", user, ev, sessionClicks, first, first+(sessionClicks-1)*60_000)
			}
		}
	}
	if len(ended) != sessionUsers {
		t.Errorf("%d users' sessions ended, want %d (the ticks' sessions stay open)", len(ended), sessionUsers)
	}

	// With no more input, the engine still gives the tasks wall-clock time: the
	// punctuator reports each task's one open session (its tick's).
	if err := poll(ctx, "a wall-clock report of one open session", func() (bool, error) {
		return openReports(ctx, t, addr)[1] > 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	stopClean(ctx, t, app)
}

// sessionEvent is examples/sessions' SessionEvent.
type sessionEvent struct {
	Kind    string `json:"kind"`
	User    string `json:"user"`
	StartMs int64  `json:"start_ms"`
	EndMs   int64  `json:"end_ms"`
	Clicks  int64  `json:"clicks"`
}

func sessionClick(user string, at int64) *kgo.Record {
	return &kgo.Record{Topic: "clicks", Key: []byte(user), Value: fmt.Appendf(nil, `{"page":"/","at_ms":%d}`, at)}
}

// keyOnPartition is a key that runtime.Partition puts on partition p of n.
func keyOnPartition(p, n int32) string {
	for i := 0; ; i++ {
		if k := fmt.Sprintf("tick-%d", i); runtime.Partition([]byte(k), n) == p {
			return k
		}
	}
}

func produceSync(ctx context.Context, t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// endedSessions reads the committed session-ended events to the topic's end, by user.
func endedSessions(ctx context.Context, t *testing.T, addr string) map[string][]sessionEvent {
	t.Helper()
	out := map[string][]sessionEvent{}
	readTopic(ctx, t, addr, "session-events", true, func(r *kgo.Record) {
		if r.Attrs.IsControl() {
			return
		}
		var ev sessionEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatalf("session-events offset %d: %v", r.Offset, err)
		}
		if ev.Kind == "ended" {
			out[ev.User] = append(out[ev.User], ev)
		}
	})
	return out
}

// openReports counts the committed reports of open sessions by their count.
func openReports(ctx context.Context, t *testing.T, addr string) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	readTopic(ctx, t, addr, "session-events", true, func(r *kgo.Record) {
		var ev struct {
			Kind string `json:"kind"`
			Open int64  `json:"open"`
		}
		if !r.Attrs.IsControl() && json.Unmarshal(r.Value, &ev) == nil && ev.Kind == "open" {
			out[ev.Open]++
		}
	})
	return out
}

// waitGroupCommitted waits until the sessions group has committed every click.
func waitGroupCommitted(ctx context.Context, t *testing.T, adm *kadm.Client, app *proc) {
	t.Helper()
	err := poll(ctx, "the sessions group commits every click", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("%s exited: %v", app.name, app.err)
		}
		ends, err := adm.ListEndOffsets(ctx, "clicks")
		if err != nil {
			return false, nil
		}
		committed, err := adm.FetchOffsets(ctx, sessionsGroup)
		if err != nil {
			return false, nil
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := committed.Lookup(o.Topic, o.Partition)
			done = done && (o.Offset == 0 || (ok && c.At == o.Offset))
		})
		return done, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
