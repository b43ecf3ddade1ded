package state_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
)

func encodeInt(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

func decodeInt(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("int has %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// win is one fetched window.
type win struct{ start, v, ts int64 }

func fetch(t testing.TB, w *state.WindowStore[int64], key string, from, to int64) []win {
	t.Helper()
	var out []win
	if err := w.Fetch([]byte(key), from, to, func(start, v, ts int64) error {
		out = append(out, win{start, v, ts})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// add adds v to key's window at start through Slot and Set, as generated code does.
func add(t testing.TB, w *state.WindowStore[int64], key string, start, v, ts int64) {
	t.Helper()
	s, err := w.Slot([]byte(key), start)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := s.Value()
	w.Set(s, old+v, ts)
}

func TestWindowStoreFetch(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		// Segments of 10 ms, so the windows below span several.
		w := state.NewWindowStore(b, encodeInt, decodeInt, state.WindowSpec{Size: 5, Retention: 100, SegmentInterval: 10}, 0)
		add(t, w, "a", 0, 1, 3)
		add(t, w, "a", 25, 2, 27)
		add(t, w, "ab", 5, 10, 6) // a longer key with the same prefix
		add(t, w, "a", 15, 4, 16)
		add(t, w, "", 15, 7, 15)  // the empty key is a key
		add(t, w, "a", 15, 1, 12) // ts stays the latest, 16
		check := func(when string) {
			t.Helper()
			for _, c := range []struct {
				key      string
				from, to int64
				want     []win
			}{
				{"a", 0, 100, []win{{0, 1, 3}, {15, 5, 16}, {25, 2, 27}}},
				{"a", 1, 25, []win{{15, 5, 16}, {25, 2, 27}}},
				{"a", 0, 14, []win{{0, 1, 3}}},
				{"a", 16, 24, nil},
				{"a", -1 << 62, 1 << 62, []win{{0, 1, 3}, {15, 5, 16}, {25, 2, 27}}},
				{"ab", 0, 100, []win{{5, 10, 6}}},
				{"", 0, 100, []win{{15, 7, 15}}},
				{"b", 0, 100, nil},
			} {
				if got := fetch(t, w, c.key, c.from, c.to); !slices.Equal(got, c.want) {
					t.Errorf("%s: Fetch(%q, %d, %d) = %v, want %v", when, c.key, c.from, c.to, got, c.want)
				}
			}
		}
		check("cached")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		check("flushed")
		// A new store over the same backend reads the same windows.
		w = state.NewWindowStore(b, encodeInt, decodeInt, state.WindowSpec{Size: 5, Retention: 100, SegmentInterval: 10}, 0)
		check("reloaded")
		// Unflushed changes over flushed windows: an update, a delete, a new window.
		add(t, w, "a", 15, 1, 30)
		if err := w.Delete([]byte("a"), 0); err != nil {
			t.Fatal(err)
		}
		add(t, w, "a", 20, 9, 21)
		want := []win{{15, 6, 30}, {20, 9, 21}, {25, 2, 27}}
		if got := fetch(t, w, "a", 0, 100); !slices.Equal(got, want) {
			t.Errorf("unflushed over flushed: %v, want %v", got, want)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, w, "a", 0, 100); !slices.Equal(got, want) {
			t.Errorf("after the second flush: %v, want %v", got, want)
		}
		// fn may update the store; its error stops Fetch.
		stop := errors.New("stop")
		n := 0
		err := w.Fetch([]byte("a"), 0, 100, func(start, v, ts int64) error {
			if n++; n == 2 {
				return stop
			}
			add(t, w, "a", start, 100, ts)
			return nil
		})
		if err != stop || n != 2 {
			t.Errorf("Fetch returned %v after %d calls, want stop after 2", err, n)
		}
		if got := fetch(t, w, "a", 15, 15); !slices.Equal(got, []win{{15, 106, 30}}) {
			t.Errorf("window updated during Fetch: %v", got)
		}
	})
}

func TestWindowStoreExpire(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		spec := state.WindowSpec{Size: 10, Retention: 30, SegmentInterval: 20}
		w := state.NewWindowStore(b, encodeInt, decodeInt, spec, 0)
		for start := int64(0); start < 100; start += 10 {
			add(t, w, "k", start, 1, start)
			if start == 50 {
				if err := w.Flush(); err != nil { // half flushed, half in the cache
					t.Fatal(err)
				}
			}
		}
		// Stream time 75: windows with start < 75-30+1 = 46 expire; segments [0,20) and [20,40) go.
		if err := w.Expire(75); err != nil {
			t.Fatal(err)
		}
		want := []win{{50, 1, 50}, {60, 1, 60}, {70, 1, 70}, {80, 1, 80}, {90, 1, 90}}
		if got := fetch(t, w, "k", 0, 100); !slices.Equal(got, want) {
			t.Errorf("after Expire(75): %v, want %v (40 is in a live segment but expired)", got, want)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		// The backend holds segment 2 ([40,60)) on: 40 and 50 (60..90 flushed now too).
		if got := len(scanKeys(t, b, nil, nil)); got != 6 {
			t.Errorf("backend holds %d windows after expiry and flush, want 6 (starts 40..90)", got)
		}
		// A store reopened over the backend (as after a restore) removes the
		// expired segments at its first Expire, even those before the last one removed.
		if err := b.Put(appendSegmentKey(0, "old", 5), append(make([]byte, 8), make([]byte, 8)...)); err != nil {
			t.Fatal(err)
		}
		w = state.NewWindowStore(b, encodeInt, decodeInt, spec, 0)
		if err := w.Expire(95); err != nil { // 95-30+1 = 66: segment 3 ([60,80)) is the first live one
			t.Fatal(err)
		}
		if got := fetch(t, w, "k", 0, 100); !slices.Equal(got, want[2:]) {
			t.Errorf("after Expire(95): %v, want %v", got, want[2:])
		}
		if got := len(scanKeys(t, b, nil, nil)); got != 4 {
			t.Errorf("backend holds %d windows, want 4 (60..90)", got)
		}
		// A write to an expired window that the caller let through is never
		// listed, and goes at the next segment's expiry.
		add(t, w, "k", 10, 1, 10)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, w, "k", 0, 100); !slices.Equal(got, want[2:]) {
			t.Errorf("after a late write: %v, want %v", got, want[2:])
		}
		if err := w.Expire(115); err != nil { // 115-30+1 = 86: segment 4 ([80,100)) is the first live one
			t.Fatal(err)
		}
		if got := len(scanKeys(t, b, nil, nil)); got != 2 {
			t.Errorf("backend holds %d windows, want 2 (80, 90)", got)
		}
	})
}

// appendSegmentKey is the window store's key of key's window at start with
// segments of 20 ms: segment, length, key, start (times sign-flipped big-endian).
func appendSegmentKey(start int64, key string, _ int) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(start/20)^(1<<63))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return binary.BigEndian.AppendUint64(b, uint64(start)^(1<<63))
}

// TestWindowStoreModel runs random updates, deletes, flushes, expiries and
// fetches against a plain map, with a cache small enough to be emptied often,
// and replays the changelog into a fresh backend at the end.
func TestWindowStoreModel(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		var changelog []change
		logged := &state.Logged{Backend: b, Log: func(k, v []byte) { changelog = append(changelog, newChange(k, v)) }}
		spec := state.WindowSpec{Size: 50, Retention: 200, SegmentInterval: 40}
		w := state.NewWindowStore(logged, encodeInt, decodeInt, spec, 16)
		model := map[string]map[int64]win{}
		keys := []string{"a", "b", "ab", "a\x00", "long key of more than sixteen bytes"}
		rng := rand.New(rand.NewPCG(1, 2))
		streamTime, minStart := int64(0), int64(-1<<62)
		for i := 0; i < 3000; i++ {
			key := keys[rng.IntN(len(keys))]
			start := streamTime - rng.Int64N(150) + 20
			start = max(start, minStart)
			switch op := rng.IntN(20); {
			case op < 12:
				ts := streamTime - rng.Int64N(10)
				add(t, w, key, start, 1, ts)
				if model[key] == nil {
					model[key] = map[int64]win{}
				}
				old, ok := model[key][start]
				if ok {
					ts = max(ts, old.ts)
				}
				model[key][start] = win{start, old.v + 1, ts}
			case op < 14:
				if err := w.Delete([]byte(key), start); err != nil {
					t.Fatal(err)
				}
				delete(model[key], start)
			case op < 15:
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			case op < 17:
				streamTime += rng.Int64N(30)
				if err := w.Expire(streamTime); err != nil {
					t.Fatal(err)
				}
				minStart = streamTime - spec.Retention + 1
			default:
				from := start - rng.Int64N(100)
				to := from + rng.Int64N(200)
				got := fetch(t, w, key, from, to)
				want := modelFetch(model[key], max(from, minStart), to)
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: Fetch(%q, %d, %d) = %v, want %v", i, key, from, to, got, want)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		// Expiry removed whole segments from the backend, the cache's unflushed
		// windows of those segments included.
		firstLive := (minStart / spec.SegmentInterval) * spec.SegmentInterval
		if err := b.Scan(nil, nil, func(k, _ []byte) error {
			if start := int64(binary.BigEndian.Uint64(k[len(k)-8:]) ^ (1 << 63)); start < firstLive {
				return fmt.Errorf("backend holds window %d of an expired segment (live from %d)", start, firstLive)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
		// Replaying the changelog into an empty backend gives the same windows.
		fresh := newBackend()
		replay(t, fresh, changelog)
		w2 := state.NewWindowStore(fresh, encodeInt, decodeInt, spec, 16)
		if err := w2.Expire(streamTime); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			want := modelFetch(model[key], minStart, 1<<62)
			if got := fetch(t, w2, key, -1<<62, 1<<62); !slices.Equal(got, want) {
				t.Errorf("replayed store: %q has %v, want %v", key, got, want)
			}
			if got := fetch(t, w, key, -1<<62, 1<<62); !slices.Equal(got, want) {
				t.Errorf("store: %q has %v, want %v", key, got, want)
			}
		}
	})
}

func modelFetch(m map[int64]win, from, to int64) []win {
	var out []win
	for start, w := range m {
		if start >= from && start <= to {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b win) int { return int(a.start - b.start) })
	return out
}

// change is one changelog record (value nil: a delete).
type change struct{ key, value []byte }

func newChange(k, v []byte) change { return change{slices.Clone(k), slices.Clone(v)} }

// replay writes a changelog into b as the runtime's restore does: Put, or
// Delete for a tombstone.
func replay(t testing.TB, b state.Backend, log []change) {
	t.Helper()
	for _, c := range log {
		var err error
		if c.value == nil {
			err = b.Delete(c.key)
		} else {
			err = b.Put(c.key, c.value)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWindowStoreHotPathAllocatesNothing(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		w := state.NewWindowStore(newBackend(), encodeInt, decodeInt, state.WindowSpec{Size: 60_000, Retention: 60_000}, 0)
		keys := make([][]byte, 100)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "user-%d", i)
			add(t, w, string(keys[i]), 0, 1, 0)
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			s, err := w.Slot(keys[i%len(keys)], 0)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := s.Value()
			w.Set(s, v+1, int64(i))
			i++
		})
		if allocs != 0 {
			t.Errorf("Slot+Set on a cached window: %v allocations, want 0", allocs)
		}
	})
}

var benchKeys = 10_000

// BenchmarkWindowStoreHit is the hot path of a windowed count, Slot and Set of
// a cached window, over 10,000 keys, beside the same over a key-value Cache
// (Cache): the price of the window's longer key (key and start), and beside a
// Go map of (key, window start) as a hand-written loop would keep (GoMap).
func BenchmarkWindowStoreHit(b *testing.B) {
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%d", i)
	}
	b.Run("WindowStore", func(b *testing.B) {
		w := state.NewWindowStore(state.NewMemoryBackend(), encodeInt, decodeInt, state.WindowSpec{Size: 60_000, Retention: 60_000}, 0)
		for _, k := range keys {
			add(b, w, string(k), 0, 1, 0)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s, _ := w.Slot(keys[i%len(keys)], 0)
			v, _ := s.Value()
			w.Set(s, v+1, int64(i))
			i++
		}
	})
	b.Run("GoMap", func(b *testing.B) { // a hand-written loop's map of (key, window start)
		type window struct {
			key   string
			start int64
		}
		strs := make([]string, len(keys))
		m := map[window]int64{}
		for i, k := range keys {
			strs[i] = string(k)
			m[window{strs[i], 0}] = 1
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m[window{strs[i%len(strs)], 0}]++
			i++
		}
	})
	b.Run("Cache", func(b *testing.B) {
		c := state.NewCache(state.NewMemoryBackend(), encodeInt, decodeInt, 0)
		for _, k := range keys {
			_ = c.Put(k, 1)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s, _ := c.Slot(keys[i%len(keys)])
			v, _ := s.Value()
			c.Set(s, v+1)
			i++
		}
	})
}

// TestWindowStoreTimesBeforeTheEpoch: times sort as numbers and segments are
// floored, so windows before 1970 are ordered, fetched and expired correctly.
func TestWindowStoreTimesBeforeTheEpoch(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		w := state.NewWindowStore(newBackend(), encodeInt, decodeInt, state.WindowSpec{Size: 10, Retention: 100, SegmentInterval: 40}, 0)
		for _, start := range []int64{50, -100, 0, -41, -40, -1} {
			add(t, w, "k", start, 1, start)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		all := []win{{-100, 1, -100}, {-41, 1, -41}, {-40, 1, -40}, {-1, 1, -1}, {0, 1, 0}, {50, 1, 50}}
		if got := fetch(t, w, "k", -1000, 1000); !slices.Equal(got, all) {
			t.Errorf("Fetch = %v, want %v", got, all)
		}
		if got := fetch(t, w, "k", -41, -1); !slices.Equal(got, all[1:4]) {
			t.Errorf("Fetch(-41, -1) = %v, want %v", got, all[1:4])
		}
		// Stream time 40: windows before -59 expire; segment [-120, -80) goes, [-80, -40) stays.
		if err := w.Expire(40); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, w, "k", -1000, 1000); !slices.Equal(got, all[1:]) {
			t.Errorf("after Expire(40): %v, want %v", got, all[1:])
		}
	})
}

// TestWindowStoreExpireStepByStep: Expire, called as stream time advances a
// little at a time (its fast path between segments, and around zero), lists
// exactly the windows a query may still see after each step, the cache's and
// the backend's: start >= stream time - retention + 1.
func TestWindowStoreExpireStepByStep(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		spec := state.WindowSpec{Size: 10, Retention: 35, SegmentInterval: 20}
		w := state.NewWindowStore(newBackend(), encodeInt, decodeInt, spec, 0)
		for start := int64(-60); start < 200; start += 5 {
			add(t, w, "k", start, 1, start)
			if start%40 == 0 {
				if err := w.Flush(); err != nil { // some in the backend, some in the cache
					t.Fatal(err)
				}
			}
		}
		for st := int64(-70); st < 240; st += 3 {
			if err := w.Expire(st); err != nil {
				t.Fatal(err)
			}
			var want []win
			for start := max(int64(-60), st-spec.Retention+1); start < 200; start++ {
				if start%5 == 0 {
					want = append(want, win{start, 1, start})
				}
			}
			if got := fetch(t, w, "k", -100, 300); !slices.Equal(got, want) {
				t.Fatalf("after Expire(%d): %v, want %v", st, got, want)
			}
		}
	})
}
