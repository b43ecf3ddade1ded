package engine

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/state"
)

// fakeMemory gives the pressure reaction the readings a test chooses: a real
// process cannot be made to report a given live heap or resident set.
type fakeMemory struct{ r memReading }

func (f *fakeMemory) read() memReading { return f.r }

// TestPressureMovesTheCacheShare drives the reaction through readings above
// the high marks, between the marks and below the low marks: the share halves
// down to its floor, holds, and doubles back to the whole bound; each change
// is logged, and only a lowering asks for memory to be returned.
func TestPressureMovesTheCacheShare(t *testing.T) {
	t.Cleanup(func() { state.SetCacheShare(state.ShareUnit) })
	s := SplitMemory(128 << 20) // GoLimit 45 MiB
	var logs bytes.Buffer
	src := &fakeMemory{}
	p := newPressure(src, s, 20000, slog.New(slog.NewTextHandler(&logs, nil)))
	step := func(r memReading, wantShare int64, wantRelease bool) {
		t.Helper()
		src.r = r
		if release := p.observe(); release != wantRelease {
			t.Errorf("observe(%+v) release = %v, want %v", r, release, wantRelease)
		}
		if got := state.CacheShare(); got != wantShare {
			t.Fatalf("after %+v: share %d, want %d", r, got, wantShare)
		}
	}
	calm := memReading{Live: s.GoLimit / 4, RSS: s.Total / 2}
	hotHeap := memReading{Live: s.GoLimit * 9 / 10, RSS: s.Total / 2}
	hotRSS := memReading{Live: s.GoLimit / 4, RSS: s.Total}
	between := memReading{Live: s.GoLimit * 6 / 10, RSS: s.Total / 2}

	step(calm, state.ShareUnit, false) // already whole: nothing to do
	step(hotHeap, state.ShareUnit/2, true)
	step(hotRSS, state.ShareUnit/4, true)
	step(between, state.ShareUnit/4, false) // between the marks: hold
	for range 10 {
		p.observe()
	}
	if got := state.CacheShare(); got != state.ShareUnit/4 {
		t.Fatalf("share %d after readings between the marks, want it held at %d", got, state.ShareUnit/4)
	}
	step(hotHeap, state.ShareUnit/8, true)
	src.r = hotHeap
	for range 10 {
		p.observe()
	}
	if got := state.CacheShare(); got != minShare {
		t.Fatalf("share %d after sustained pressure, want the floor %d", got, minShare)
	}
	if p.entries() != 20000*minShare/state.ShareUnit {
		t.Errorf("entries = %d, want %d", p.entries(), 20000*minShare/state.ShareUnit)
	}
	for range 4 {
		src.r = calm
		p.observe()
	}
	if got := state.CacheShare(); got != state.ShareUnit {
		t.Fatalf("share %d after calm readings, want the whole %d", got, state.ShareUnit)
	}
	if n := strings.Count(logs.String(), "typed cache bound changed"); n != 4+4 {
		t.Errorf("%d log lines for share changes, want 8 (1/2, 1/4, 1/8, 1/16, then 4 doublings):\n%s", n, logs.String())
	}
}

// TestPressureShrinksCachesWithoutLosingChanges: caches full of dirty entries
// meet a reading above the high mark; the commit's Flush writes every change
// and leaves each cache within the lowered bound; entries written afterwards
// keep to it, and the backend ends with every value.
func TestPressureShrinksCachesWithoutLosingChanges(t *testing.T) {
	t.Cleanup(func() { state.SetCacheShare(state.ShareUnit) })
	s := SplitMemory(128 << 20)
	src := &fakeMemory{r: memReading{Live: s.GoLimit / 4}}
	const bound = 4000
	p := newPressure(src, s, bound, quietLogger())
	backends := []*state.MemoryBackend{state.NewMemoryBackend(), state.NewMemoryBackend()}
	caches := make([]*state.Cache[int64], len(backends))
	for i, b := range backends {
		caches[i] = state.NewCache(b, streams.Int64().Encode, streams.Int64().Decode, bound)
	}
	want := map[string]int64{}
	put := func(n, from int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			k := fmt.Sprintf("user-%06d", i)
			for _, c := range caches {
				if err := c.Put([]byte(k), int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			want[k] = int64(i)
		}
	}
	put(bound, 0) // full, every entry dirty
	src.r.Live = s.GoLimit
	if !p.observe() {
		t.Fatal("a live heap at the Go limit did not lower the share")
	}
	for i, c := range caches { // the commit
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if c.Len() > p.entries() {
			t.Errorf("cache %d holds %d entries after the commit, want at most %d", i, c.Len(), p.entries())
		}
	}
	put(3*bound, bound)
	for i, c := range caches {
		if c.Len() > p.entries() {
			t.Errorf("cache %d holds %d entries, want at most %d", i, c.Len(), p.entries())
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range backends {
		if n := b.Len(); n != len(want) {
			t.Errorf("backend %d holds %d keys, want %d", i, n, len(want))
		}
		for k, v := range want {
			raw, ok, err := b.Get([]byte(k))
			if err != nil || !ok {
				t.Fatalf("backend %d lost %s (%v)", i, k, err)
			}
			if got, _ := streams.Int64().Decode(raw); got != v {
				t.Fatalf("backend %d: %s = %d, want %d", i, k, got, v)
			}
		}
	}
}

// TestRuntimeMemoryReads: the real reader sees a live heap and, on Linux, a
// resident set.
func TestRuntimeMemoryReads(t *testing.T) {
	r := newRuntimeMemory().read()
	if r.Live < 0 || r.RSS < 0 {
		t.Fatalf("reading %+v", r)
	}
	t.Logf("live heap %d B, RSS %d B", r.Live, r.RSS)
}
