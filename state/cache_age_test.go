package state_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gofka/streams/state"
)

// counting is an OrderedBackend that counts the reads and watches the writes
// reaching the real backend it wraps (instrumentation, not a mock: every call
// goes through).
type counting struct {
	state.OrderedBackend
	gets   int
	onPut  func(key []byte)
	stored int
}

func (c *counting) Get(key []byte) ([]byte, bool, error) {
	c.gets++
	return c.OrderedBackend.Get(key)
}

func (c *counting) Put(key, value []byte) error {
	if c.onPut != nil {
		c.onPut(key)
	}
	c.stored++
	return c.OrderedBackend.Put(key, value)
}

// storedStart is the window start at the end of a window store's backend key.
func storedStart(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[len(k)-8:]) ^ (1 << 63)) }

// TestWindowStoreEvictsOldestWindows: a window store whose windows outnumber
// its cache keeps the newest ones cached and spills the oldest to the backend;
// a new window (newer than any spilled one) costs no backend read, a spilled
// one is read back with its value, and every count matches a map kept beside.
func TestWindowStoreEvictsOldestWindows(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := &counting{OrderedBackend: newBackend()}
		spec := state.WindowSpec{Size: 10, Retention: 1 << 40, SegmentInterval: 1000}
		w := state.NewWindowStore(b, encodeInt, decodeInt, spec, 100)
		want := map[string]int64{} // key@start → count
		addOne := func(key string, start int64) {
			add(t, w, key, start, 1, start)
			want[fmt.Sprintf("%s@%d", key, start)]++
		}
		// 2,000 windows, each new, in start order: 4 keys a start.
		for start := int64(0); start < 500; start++ {
			for k := range 4 {
				addOne(fmt.Sprintf("k%d", k), start)
			}
		}
		if b.gets != 0 {
			t.Errorf("%d backend reads for windows newer than any evicted one, want 0", b.gets)
		}
		if b.stored == 0 || w.Len() > 100 {
			t.Fatalf("%d windows cached (bound 100), %d written: the cache did not spill", w.Len(), b.stored)
		}
		// The newest windows stayed cached: updating them reads nothing.
		for start := int64(490); start < 500; start++ {
			addOne("k0", start)
		}
		if b.gets != 0 {
			t.Errorf("%d backend reads updating the newest windows, want 0 (they stay cached)", b.gets)
		}
		// The oldest were spilled: updating them reads them back, value included.
		for start := int64(0); start < 10; start++ {
			addOne("k1", start)
		}
		if b.gets != 10 {
			t.Errorf("%d backend reads updating 10 spilled windows, want 10", b.gets)
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
			if n := len(fetch(t, w, key, 0, 1000)); n != 500 {
				t.Fatalf("%s has %d windows, want 500", key, n)
			}
		}
	})
}

// TestWindowStoreEvictionDropsExpiredWindowsUnwritten: when the cache is full,
// windows stream time has expired (which nobody may read again) leave it
// without a backend write; only live windows are spilled.
func TestWindowStoreEvictionDropsExpiredWindowsUnwritten(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := &counting{OrderedBackend: newBackend()}
		spec := state.WindowSpec{Size: 10, Retention: 50, SegmentInterval: 1000} // expiry drops no segment here
		w := state.NewWindowStore(b, encodeInt, decodeInt, spec, 64)
		var minStart int64
		b.onPut = func(k []byte) {
			if s := storedStart(k); s < minStart {
				t.Errorf("window %d written after it expired (live from %d)", s, minStart)
			}
		}
		for streamTime := int64(0); streamTime < 900; streamTime++ {
			if err := w.Expire(streamTime); err != nil {
				t.Fatal(err)
			}
			minStart = streamTime - spec.Retention + 1
			for k := range 3 {
				add(t, w, fmt.Sprintf("k%d", k), streamTime, 1, streamTime)
			}
		}
		// 3 windows a ms, 50 ms live: 150 live windows, more than the cache's
		// 64, so live windows must have been spilled.
		if b.stored == 0 {
			t.Error("no live window spilled from a cache smaller than the live windows")
		}
		// The live windows all read back with their count.
		for k := range 3 {
			got := fetch(t, w, fmt.Sprintf("k%d", k), 0, 1000)
			if len(got) != int(spec.Retention) || got[0].start != minStart {
				t.Fatalf("k%d: live windows %v, want %d from %d", k, got, spec.Retention, minStart)
			}
			for _, x := range got {
				if x.v != 1 {
					t.Fatalf("k%d@%d = %d, want 1", k, x.start, x.v)
				}
			}
		}
	})
}

// TestWindowStoreReadsWhatItsBackendHeldAtStart: a store made over a backend
// that already holds windows (a restore) reads them on a miss, and still
// skips the read for windows after the last segment the backend held.
func TestWindowStoreReadsWhatItsBackendHeldAtStart(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		raw := newBackend()
		spec := state.WindowSpec{Size: 10, Retention: 1000, SegmentInterval: 100}
		w1 := state.NewWindowStore(raw, encodeInt, decodeInt, spec, 0)
		for start := int64(0); start < 250; start += 10 {
			add(t, w1, "a", start, start+1, start)
		}
		if err := w1.Flush(); err != nil {
			t.Fatal(err)
		}
		b := &counting{OrderedBackend: raw}
		w2 := state.NewWindowStore(b, encodeInt, decodeInt, spec, 0)
		for start := int64(0); start < 250; start += 10 {
			s, err := w2.Slot([]byte("a"), start)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := s.Value(); !ok || v != start+1 {
				t.Fatalf("a@%d = %d, %v after a restart, want %d", start, v, ok, start+1)
			}
		}
		gets := b.gets
		// Segment 2 (200-299) was the last the backend held: from 300 on, nothing.
		for start := int64(300); start < 400; start += 10 {
			add(t, w2, "a", start, 1, start)
		}
		if b.gets != gets {
			t.Errorf("%d backend reads for windows after the backend's last segment, want 0", b.gets-gets)
		}
		if _, err := w2.Slot([]byte("b"), 250); err != nil || b.gets != gets+1 {
			t.Errorf("a window in the backend's last segment: %d reads (%v), want 1", b.gets-gets, err)
		}
	})
}

// TestWindowStoreTinyCaches: caches of one, two and three windows evict on
// almost every new window, old or new, and lose no count.
func TestWindowStoreTinyCaches(t *testing.T) {
	for _, bound := range []int{1, 2, 3} {
		b := state.NewMemoryBackend()
		w := state.NewWindowStore(b, encodeInt, decodeInt, state.WindowSpec{Size: 10, Retention: 1 << 40}, bound)
		want := map[int64]int64{}
		for i := int64(0); i < 500; i++ {
			start := (i * 7919) % 37 // every start, in no order, many times
			add(t, w, "k", start, 1, i)
			want[start]++
			if w.Len() > bound {
				t.Fatalf("bound %d: %d windows cached", bound, w.Len())
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got := fetch(t, w, "k", 0, 100)
		if len(got) != len(want) {
			t.Fatalf("bound %d: %d windows, want %d", bound, len(got), len(want))
		}
		for _, x := range got {
			if x.v != want[x.start] {
				t.Fatalf("bound %d: window %d = %d, want %d", bound, x.start, x.v, want[x.start])
			}
		}
	}
}
