package state_test

import (
	"fmt"
	"testing"

	"github.com/gofka/streams/state"
)

// setShare lowers the process's cache share for one test, restoring it after.
func setShare(t *testing.T, share int64) {
	t.Helper()
	old := state.CacheShare()
	state.SetCacheShare(share)
	t.Cleanup(func() { state.SetCacheShare(old) })
}

// TestCacheShrinksUnderShareAtFlush: a cache holding more than its bound
// under a lowered share writes every dirty entry and empties at the next
// Flush; it then never holds more than the lowered limit, and every value
// written, before and after, is in the backend (no dirty entry lost). Raising
// the share lets it fill its whole bound again.
func TestCacheShrinksUnderShareAtFlush(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 1000)
	want := map[string]int64{}
	for i := range 800 {
		k := fmt.Sprintf("key-%04d", i)
		put(t, c, k, int64(i))
		want[k] = int64(i)
	}
	if c.Len() != 800 {
		t.Fatalf("Len = %d before the share is lowered, want 800", c.Len())
	}
	setShare(t, state.ShareUnit/8) // limit 125
	for i := range 50 {            // dirty again: must reach the backend
		k := fmt.Sprintf("key-%04d", i)
		put(t, c, k, int64(-i))
		want[k] = int64(-i)
	}
	flush(t, c)
	if c.Len() > 125 {
		t.Fatalf("Len = %d after Flush under share 1/8, want at most 125", c.Len())
	}
	for i := 800; i < 1200; i++ {
		k := fmt.Sprintf("key-%04d", i)
		put(t, c, k, int64(i))
		want[k] = int64(i)
		if c.Len() > 125 {
			t.Fatalf("Len = %d after %s under share 1/8, want at most 125", c.Len(), k)
		}
	}
	flush(t, c)
	for k, v := range want {
		if got := b.stored(t, k); got != v {
			t.Fatalf("backend %s = %d, want %d (a dirty entry was lost)", k, got, v)
		}
		if got, ok := get(t, c, k); !ok || got != v {
			t.Fatalf("Get(%s) = %d, %v, want %d", k, got, ok, v)
		}
	}
	state.SetCacheShare(state.ShareUnit)
	flush(t, c)
	most := 0
	for i := range 1200 {
		get(t, c, fmt.Sprintf("key-%04d", i))
		most = max(most, c.Len())
	}
	if most != 1000 {
		t.Errorf("the cache held at most %d entries after the share was raised again, want its whole bound 1000", most)
	}
}

// TestCacheTakesUpShareWhenFull: a full cache takes up the share in force when
// it makes room, without waiting for a Flush.
func TestCacheTakesUpShareWhenFull(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 100)
	for i := range 100 {
		put(t, c, fmt.Sprintf("k%d", i), int64(i))
	}
	setShare(t, state.ShareUnit/4) // limit 25
	for i := 100; i < 200; i++ {
		put(t, c, fmt.Sprintf("k%d", i), int64(i))
		if i > 100 && c.Len() > 25 {
			t.Fatalf("Len = %d after k%d under share 1/4, want at most 25", c.Len(), i)
		}
	}
	flush(t, c)
	for i := range 200 {
		if got := b.stored(t, fmt.Sprintf("k%d", i)); got != int64(i) {
			t.Fatalf("backend k%d = %d, want %d", i, got, i)
		}
	}
}

// TestCacheShrinkFailedFlushKeepsDirty: a Flush that fails does not shrink,
// so the entries it could not write stay cached and dirty, and the next Flush
// writes them and then shrinks.
func TestCacheShrinkFailedFlushKeepsDirty(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 100)
	for i := range 100 {
		put(t, c, fmt.Sprintf("k%d", i), int64(i))
	}
	setShare(t, state.ShareUnit/10)
	b.failPut = fmt.Errorf("disk full")
	if err := c.Flush(); err == nil {
		t.Fatal("Flush with a failing backend succeeded")
	}
	if c.Len() != 100 {
		t.Fatalf("Len = %d after a failed Flush, want 100 (nothing dropped)", c.Len())
	}
	b.failPut = nil
	flush(t, c)
	if c.Len() > 10 {
		t.Fatalf("Len = %d after Flush under share 1/10, want at most 10", c.Len())
	}
	for i := range 100 {
		if got := b.stored(t, fmt.Sprintf("k%d", i)); got != int64(i) {
			t.Fatalf("backend k%d = %d, want %d", i, got, i)
		}
	}
}

// TestWindowStoreShrinksUnderShare: a window store under a lowered share
// evicts its oldest windows at Flush, down to the lowered limit, and every
// count stays right.
func TestWindowStoreShrinksUnderShare(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := &counting{OrderedBackend: newBackend()}
		spec := state.WindowSpec{Size: 10, Retention: 1 << 40, SegmentInterval: 1000}
		w := state.NewWindowStore(b, encodeInt, decodeInt, spec, 400)
		want := map[string]int64{}
		for start := int64(0); start < 100; start++ {
			for k := range 4 {
				key := fmt.Sprintf("k%d", k)
				add(t, w, key, start, 1, start)
				want[fmt.Sprintf("%s@%d", key, start)]++
			}
		}
		if w.Len() != 400 {
			t.Fatalf("Len = %d, want 400", w.Len())
		}
		setShare(t, state.ShareUnit/4) // limit 100: 75 kept
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if w.Len() > 100 {
			t.Fatalf("Len = %d after Flush under share 1/4, want at most 100", w.Len())
		}
		for start := int64(0); start < 120; start++ {
			add(t, w, "k0", start, 1, start)
			want[fmt.Sprintf("k0@%d", start)]++
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		for k := range 4 {
			key := fmt.Sprintf("k%d", k)
			for _, got := range fetch(t, w, key, 0, 1000) {
				if n := want[fmt.Sprintf("%s@%d", key, got.start)]; got.v != n {
					t.Fatalf("%s@%d = %d, want %d", key, got.start, got.v, n)
				}
			}
		}
	})
}
