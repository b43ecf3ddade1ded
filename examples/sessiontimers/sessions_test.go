package main

import (
	"testing"
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// t0 is 2026-01-01T10:00:00Z in milliseconds.
var t0 = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

const minute = int64(time.Minute / time.Millisecond)

type driver struct {
	*streamstest.Driver
	clicks *streamstest.InputTopic[string, Click]
	events *streamstest.OutputTopic[string, SessionEvent]
}

func newDriver(t *testing.T) driver {
	d := streamstest.NewDriver(CompiledSessions(), streamstest.WithPartitions(1), streamstest.WithStartTime(t0))
	t.Cleanup(func() { d.Close() })
	return driver{
		Driver: d,
		clicks: streamstest.Input(d, "clicks", streams.String(), streams.JSON[Click]()),
		events: streamstest.Output(d, "session-events", streams.String(), streams.JSON[SessionEvent]()),
	}
}

func (d driver) click(t *testing.T, user string, at int64) {
	t.Helper()
	if err := d.clicks.Pipe(user, Click{Page: "/", AtMs: at}); err != nil {
		t.Fatal(err)
	}
}

// expect reads the events written since the last call and compares them, with
// their timestamps, with want.
func (d driver) expect(t *testing.T, want ...streamstest.TestRecord[string, SessionEvent]) {
	t.Helper()
	got, err := d.events.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Key != want[i].Key || got[i].Value != want[i].Value || got[i].Timestamp != want[i].Timestamp {
			t.Errorf("event %d: got %s %+v at %d, want %s %+v at %d", i, got[i].Key, got[i].Value, got[i].Timestamp, want[i].Key, want[i].Value, want[i].Timestamp)
		}
	}
}

func ended(user string, start, end, clicks, at int64) streamstest.TestRecord[string, SessionEvent] {
	return streamstest.TestRecord[string, SessionEvent]{Key: user, Timestamp: at,
		Value: SessionEvent{Kind: "ended", User: user, StartMs: start, EndMs: end, Clicks: clicks}}
}

func report(open, at int64) streamstest.TestRecord[string, SessionEvent] {
	return streamstest.TestRecord[string, SessionEvent]{Key: "", Timestamp: at, Value: SessionEvent{Kind: "open", Open: open}}
}

// TestSessionEndsWhenStreamTimePassesItsTimer: a session ends once stream time
// (moved by any user's click) reaches 30 minutes after its last click, with the
// timer's time as the event's timestamp; a click within the gap moves the timer.
func TestSessionEndsWhenStreamTimePassesItsTimer(t *testing.T) {
	d := newDriver(t)
	d.click(t, "alice", t0)
	d.click(t, "alice", t0+minute)
	d.click(t, "bob", t0+10*minute)
	d.click(t, "bob", t0+30*minute) // stream time at alice's timer minus a minute
	d.expect(t)
	d.click(t, "bob", t0+31*minute) // reaches alice's timer: it fires after this click
	d.expect(t, ended("alice", t0, t0+minute, 2, t0+31*minute))
	d.click(t, "carol", t0+2*60*minute) // passes bob's timer (t0+61m)
	d.expect(t, ended("bob", t0+10*minute, t0+31*minute, 3, t0+61*minute))
}

// TestClickAfterTheGapEndsTheSessionFirst: a user's own click that passes the
// session's timer ends the session in track (the timer fires only after the
// click), and starts a new one whose timer then waits for its own time.
func TestClickAfterTheGapEndsTheSessionFirst(t *testing.T) {
	d := newDriver(t)
	d.click(t, "alice", t0)
	d.click(t, "alice", t0+45*minute)
	d.expect(t, ended("alice", t0, t0, 1, t0+30*minute))
	d.click(t, "bob", t0+75*minute)
	d.expect(t, ended("alice", t0+45*minute, t0+45*minute, 1, t0+75*minute))
}

// TestReportsOpenSessionsOnWallClock: the wall-clock punctuator fires only when
// the test moves the driver's wall clock over a multiple of 10 s, once however
// far it moves, and never on record time alone.
func TestReportsOpenSessionsOnWallClock(t *testing.T) {
	d := newDriver(t)
	advance := func(step time.Duration) {
		t.Helper()
		if err := d.AdvanceWallClockTime(step); err != nil {
			t.Fatal(err)
		}
	}
	d.click(t, "alice", t0)
	d.click(t, "bob", t0)
	advance(5 * time.Second) // the first time the punctuator sees: it schedules t0+10s
	d.click(t, "carol", t0+20*minute)
	d.expect(t)
	advance(5 * time.Second)
	d.expect(t, report(3, t0+10_000))
	advance(9 * time.Second)
	d.expect(t)
	advance(30 * time.Second) // past t0+20s, t0+30s and t0+40s: one report, at t0+40s
	d.expect(t, report(3, t0+40_000))
	d.click(t, "carol", t0+49*minute) // alice's and bob's timers (t0+30m) fire
	d.expect(t, ended("alice", t0, t0, 1, t0+30*minute), ended("bob", t0, t0, 1, t0+30*minute))
	advance(10 * time.Second)
	d.expect(t, report(1, t0+50_000))
	if got := d.WallClockTime(); got != t0+59_000 {
		t.Errorf("WallClockTime = %d, want %d", got, t0+59_000)
	}
}
