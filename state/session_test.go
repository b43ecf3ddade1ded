package state_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
)

// sess is one found session.
type sess struct{ start, end, v, ts int64 }

func find(t testing.TB, s *state.SessionStore[int64], key string, earliestEnd, latestStart int64) []sess {
	t.Helper()
	var out []sess
	if err := s.FindSessions([]byte(key), earliestEnd, latestStart, func(start, end, v, ts int64) error {
		out = append(out, sess{start, end, v, ts})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func putSession(t testing.TB, s *state.SessionStore[int64], key string, x sess) {
	t.Helper()
	if err := s.Put([]byte(key), x.start, x.end, x.v, x.ts); err != nil {
		t.Fatal(err)
	}
}

func TestSessionStoreFindSessions(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		spec := state.SessionSpec{Retention: 1000, SegmentInterval: 25}
		s := state.NewSessionStore(b, encodeInt, decodeInt, spec, 0)
		a0, a1, a2 := sess{0, 0, 1, 0}, sess{10, 20, 2, 20}, sess{30, 140, 3, 140} // a2 spans segments
		putSession(t, s, "a", a2)
		putSession(t, s, "a", a0)
		putSession(t, s, "a", a1)
		putSession(t, s, "aa", sess{10, 20, 9, 20})
		check := func(when string) {
			t.Helper()
			for _, c := range []struct {
				earliestEnd, latestStart int64
				want                     []sess
			}{
				{0, 1000, []sess{a0, a1, a2}}, // all, by end
				{15, 35, []sess{a1, a2}},      // end >= 15, start <= 35
				{1, 9, nil},                   // between sessions
				{-10, 0, []sess{a0}},          // a record at 0 with gap 10 would merge a0
				{141, 1000, nil},              // after every end
				{100, 30, []sess{a2}},         // a record inside a long session
				{20, 10, []sess{a1}},          // ends exactly at earliestEnd, starts exactly at latestStart
				{-1 << 62, 1 << 62, []sess{a0, a1, a2}},
			} {
				if got := find(t, s, "a", c.earliestEnd, c.latestStart); !slices.Equal(got, c.want) {
					t.Errorf("%s: FindSessions(a, %d, %d) = %v, want %v", when, c.earliestEnd, c.latestStart, got, c.want)
				}
			}
		}
		check("cached")
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		check("flushed")
		s = state.NewSessionStore(b, encodeInt, decodeInt, spec, 0)
		check("reloaded")
		// A record at 25 with gap 5 bridges a1 and a2: remove both, put the merge.
		merged := find(t, s, "a", 25-5, 25+5)
		if !slices.Equal(merged, []sess{a1, a2}) {
			t.Fatalf("sessions a record at 25 joins: %v", merged)
		}
		for _, m := range merged {
			if err := s.Remove([]byte("a"), m.start, m.end); err != nil {
				t.Fatal(err)
			}
		}
		putSession(t, s, "a", sess{10, 140, 6, 140})
		if got, want := find(t, s, "a", 0, 1000), []sess{a0, {10, 140, 6, 140}}; !slices.Equal(got, want) {
			t.Errorf("after the merge: %v, want %v", got, want)
		}
		// Expiry by end: stream time 1030 expires ends < 30 (a0, and aa's session).
		if err := s.Expire(1030); err != nil {
			t.Fatal(err)
		}
		if got, want := find(t, s, "a", -1<<62, 1<<62), []sess{{10, 140, 6, 140}}; !slices.Equal(got, want) {
			t.Errorf("after Expire(1030): %v, want %v", got, want)
		}
		if got := find(t, s, "aa", -1<<62, 1<<62); got != nil {
			t.Errorf("after Expire(1030): aa has %v", got)
		}
	})
}

// TestSessionStoreModel runs random puts, removes, flushes, expiries and
// queries against a plain list, then replays the changelog into a fresh backend.
func TestSessionStoreModel(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		var changelog []change
		logged := &state.Logged{Backend: b, Log: func(k, v []byte) { changelog = append(changelog, newChange(k, v)) }}
		spec := state.SessionSpec{Retention: 300, SegmentInterval: 50}
		s := state.NewSessionStore(logged, encodeInt, decodeInt, spec, 8)
		model := map[string]map[[2]int64]sess{}
		keys := []string{"a", "b", "ab"}
		rng := rand.New(rand.NewPCG(3, 4))
		streamTime, minEnd := int64(1000), int64(-1<<62)
		for i := 0; i < 3000; i++ {
			key := keys[rng.IntN(len(keys))]
			end := max(streamTime-rng.Int64N(250), minEnd)
			start := end - rng.Int64N(120)
			switch op := rng.IntN(20); {
			case op < 10:
				x := sess{start, end, rng.Int64N(100), end}
				putSession(t, s, key, x)
				if model[key] == nil {
					model[key] = map[[2]int64]sess{}
				}
				model[key][[2]int64{start, end}] = x
			case op < 12 && len(model[key]) > 0:
				for k := range model[key] { // any one
					if err := s.Remove([]byte(key), k[0], k[1]); err != nil {
						t.Fatal(err)
					}
					delete(model[key], k)
					break
				}
			case op < 13:
				if err := s.Flush(); err != nil {
					t.Fatal(err)
				}
			case op < 15:
				streamTime += rng.Int64N(40)
				if err := s.Expire(streamTime); err != nil {
					t.Fatal(err)
				}
				minEnd = streamTime - spec.Retention // a session closes when end + retention < stream time
			default:
				e, l := end-rng.Int64N(100), end+rng.Int64N(100)-50
				if got, want := find(t, s, key, e, l), modelFind(model[key], max(e, minEnd), l); !slices.Equal(got, want) {
					t.Fatalf("op %d: FindSessions(%q, %d, %d) = %v, want %v", i, key, e, l, got, want)
				}
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		fresh := newBackend()
		replay(t, fresh, changelog)
		s2 := state.NewSessionStore(fresh, encodeInt, decodeInt, spec, 8)
		if err := s2.Expire(streamTime); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			want := modelFind(model[key], minEnd, 1<<62)
			if got := find(t, s2, key, -1<<62, 1<<62); !slices.Equal(got, want) {
				t.Errorf("replayed store: %q has %v, want %v", key, got, want)
			}
		}
	})
}

func modelFind(m map[[2]int64]sess, earliestEnd, latestStart int64) []sess {
	var out []sess
	for _, x := range m {
		if x.end >= earliestEnd && x.start <= latestStart {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b sess) int {
		if a.end != b.end {
			return int(a.end - b.end)
		}
		return int(a.start - b.start)
	})
	return out
}

// TestSessionStoreExpiresByKafkasCloseRule: a session is kept while a record can
// still join it, end + retention >= stream time (Kafka Streams: late when
// end + gap + grace < stream time), and expires the millisecond after.
func TestSessionStoreExpiresByKafkasCloseRule(t *testing.T) {
	s := state.NewSessionStore(state.NewMemoryBackend(), encodeInt, decodeInt, state.SessionSpec{Retention: 100, SegmentInterval: 1}, 0)
	putSession(t, s, "a", sess{0, 50, 1, 50})
	if err := s.Expire(150); err != nil {
		t.Fatal(err)
	}
	if got := find(t, s, "a", 0, 1000); len(got) != 1 {
		t.Errorf("at stream time 150 = end + retention: %v, want the session", got)
	}
	if err := s.Expire(151); err != nil {
		t.Fatal(err)
	}
	if got := find(t, s, "a", 0, 1000); got != nil {
		t.Errorf("at stream time 151: %v, want none", got)
	}
}
