package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

const gap, grace = 5 * 60_000, 60_000

// session is one output record: a user's session bounds, its count and
// timestamp; a count of -1 is a delete (a nil value) of a session merged away.
type session struct {
	user       string
	start, end int64
	count      int64
	ts         int64
}

func newDriver(t *testing.T) (*streamstest.Driver, *streamstest.InputTopic[string, []byte], *streamstest.OutputTopic[streams.Windowed[string], int64]) {
	d := streamstest.NewDriver(CompiledSessions(), streamstest.WithPartitions(1))
	t.Cleanup(func() { d.Close() })
	in := streamstest.Input(d, "clicks", streams.String(), streams.Bytes())
	out := streamstest.Output(d, "clicks-per-session", streams.SessionWindowedSerde[string, streams.StringSerde[string]]{}, streams.Int64())
	return d, in, out
}

func read(t *testing.T, out *streamstest.OutputTopic[streams.Windowed[string], int64]) []session {
	t.Helper()
	recs, err := out.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	var got []session
	for _, r := range recs {
		n := r.Value
		if r.NilValue {
			n = -1
		}
		got = append(got, session{r.Key.Key, r.Key.Start.UnixMilli(), r.Key.End.UnixMilli(), n, r.Timestamp})
	}
	return got
}

func check(t *testing.T, got, want []session) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sessions:\n got %v\nwant %v", got, want)
	}
}

// Ported from Kafka Streams' KStreamSessionWindowAggregateProcessorTest
// shouldMergeSessions: a record between two sessions, within the gap of each,
// merges them into one of three records, after a delete of each.
func TestMergeSessions(t *testing.T) {
	_, in, out := newDriver(t)
	for _, ts := range []int64{0, gap + 1, gap / 2} {
		if err := in.PipeAt("mel", nil, ts); err != nil {
			t.Fatal(err)
		}
	}
	check(t, read(t, out), []session{
		{"mel", 0, 0, 1, 0},
		{"mel", gap + 1, gap + 1, 1, gap + 1},
		{"mel", 0, 0, -1, 0},
		{"mel", gap + 1, gap + 1, -1, gap + 1},
		{"mel", 0, gap + 1, 3, gap + 1},
	})
}

// Ported from shouldImmediatelyForwardRemovedSessionsWhenMerging (the delete of
// the session [0, 0], then [0, 5]) and
// shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap (a second
// record at gap + 6 leaves the session [gap+6, gap+6] as it is: no delete).
func TestSessionsApartByGap(t *testing.T) {
	_, in, out := newDriver(t)
	for _, ts := range []int64{0, 5, gap + 6, gap + 6, 2*gap + 7} {
		if err := in.PipeAt("a", nil, ts); err != nil {
			t.Fatal(err)
		}
	}
	check(t, read(t, out), []session{
		{"a", 0, 0, 1, 0},
		{"a", 0, 0, -1, 0},
		{"a", 0, 5, 2, 5},
		{"a", gap + 6, gap + 6, 1, gap + 6},
		{"a", gap + 6, gap + 6, 2, gap + 6},
		{"a", 2*gap + 7, 2*gap + 7, 1, 2*gap + 7},
	})
}

// TestSessionsMatchBruteForce: shuffled clicks of a few users, some later than
// gap + grace, against sessions computed here without the DSL or the runtime.
func TestSessionsMatchBruteForce(t *testing.T) {
	d, in, out := newDriver(t)
	lateOut := streamstest.Output(d, "late-clicks", streams.String(), streams.Bytes())
	rng := rand.New(rand.NewPCG(14, 2))
	type click struct {
		user string
		ts   int64
	}
	var clicks []click
	for i := range 2000 {
		ts := int64(i) * 60_000
		switch rng.IntN(20) {
		case 0, 1, 2, 3: // a fifth up to 7 min early: within gap + grace, bridging sessions
			ts -= rng.Int64N(7 * 60_000)
		case 4: // a twentieth up to 14 min early: often late
			ts -= rng.Int64N(14 * 60_000)
		}
		clicks = append(clicks, click{fmt.Sprintf("u%d", rng.IntN(5)), max(ts, 0)})
	}

	// The brute force: per user a list of sessions, stream time over all clicks.
	type sess struct{ start, end, count, ts int64 }
	byUser := map[string][]sess{}
	streamTime := int64(-1)
	var want []session
	var wantLate []click
	bridges := 0 // clicks that merge two or more sessions
	for _, c := range clicks {
		streamTime = max(streamTime, c.ts)
		merged := sess{c.ts, c.ts, 1, c.ts}
		joined := 0
		var keep []sess
		for _, s := range byUser[c.user] {
			live := s.end+gap+grace >= streamTime
			if live && s.end >= c.ts-gap && s.start <= c.ts+gap {
				merged = sess{min(merged.start, s.start), max(merged.end, s.end), merged.count + s.count, max(merged.ts, s.ts)}
				joined++
			} else {
				keep = append(keep, s)
			}
		}
		if merged.end+gap+grace < streamTime {
			wantLate = append(wantLate, c)
			continue
		}
		if joined > 1 {
			bridges++
		}
		if merged.start != c.ts || merged.end != c.ts { // the merged-away sessions' deletes, by end then start
			var gone []sess
			for _, s := range byUser[c.user] {
				if !slices.Contains(keep, s) {
					gone = append(gone, s)
				}
			}
			slices.SortFunc(gone, func(a, b sess) int { return cmp.Or(cmp.Compare(a.end, b.end), cmp.Compare(a.start, b.start)) })
			for _, s := range gone {
				want = append(want, session{c.user, s.start, s.end, -1, s.end})
			}
		}
		byUser[c.user] = append(keep, merged)
		want = append(want, session{c.user, merged.start, merged.end, merged.count, merged.ts})
	}
	if len(wantLate) == 0 || len(wantLate) > len(clicks)/4 || bridges == 0 {
		t.Fatalf("%d late clicks of %d, %d bridging: not a useful input", len(wantLate), len(clicks), bridges)
	}

	for _, c := range clicks {
		if err := in.PipeAt(c.user, nil, c.ts); err != nil {
			t.Fatal(err)
		}
	}
	check(t, read(t, out), want)
	lates, err := lateOut.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(lates) != len(wantLate) || d.LateRecords() != int64(len(wantLate)) {
		t.Fatalf("%d late records written, %d counted; want %d", len(lates), d.LateRecords(), len(wantLate))
	}
	t.Logf("%d clicks: %d session updates, %d bridging two sessions or more, %d late", len(clicks), len(want), bridges, len(wantLate))
}
