package state_test

import (
	"testing"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/state"
)

// A timestamped store keeps each row's timestamp beside its value through a
// flush and a cold read (what a restart from the changelog or a snapshot
// sees), Put stores the given timestamp even when older, and Set keeps the
// later of the old and new ones.
func TestTimestampedCacheKeepsRowTimes(t *testing.T) {
	b := state.NewMemoryBackend()
	c := state.NewTimestampedCache(b, streams.Int64().Encode, streams.Int64().Decode, 0)
	if err := c.Put([]byte("a"), 1, 500); err != nil {
		t.Fatal(err)
	}
	if err := c.Put([]byte("a"), 2, 100); err != nil { // an older update still replaces the row and its time
		t.Fatal(err)
	}
	sl, err := c.Slot([]byte("n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Set(sl, 10, 300)
	sl, _ = c.Slot([]byte("n"))
	c.Set(sl, 11, 200) // earlier than the aggregate's: it keeps 300
	if err := c.Put([]byte("gone"), 7, 50); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	// What the backend holds: the time, then the value serde's bytes.
	raw, _, _ := b.Get([]byte("a"))
	val, ts, err := state.TimestampedValue(raw)
	if err != nil || ts != 100 {
		t.Fatalf("backend row of a: ts %d, %v; want 100", ts, err)
	}
	if v, _ := streams.Int64().Decode(val); v != 2 {
		t.Fatalf("backend value of a: %d, want 2", v)
	}
	cold := state.NewTimestampedCache(b, streams.Int64().Encode, streams.Int64().Decode, 0)
	for _, w := range []struct {
		key    string
		v, ts  int64
		exists bool
	}{{"a", 2, 100, true}, {"n", 11, 300, true}, {"gone", 0, 0, false}} {
		v, ts, ok, err := cold.GetTimed([]byte(w.key))
		if err != nil || v != w.v || ts != w.ts || ok != w.exists {
			t.Errorf("GetTimed(%q) = %d, %d, %v, %v; want %d, %d, %v", w.key, v, ts, ok, err, w.v, w.ts, w.exists)
		}
	}
	if _, _, err := state.TimestampedValue([]byte{1, 2}); err == nil {
		t.Error("TimestampedValue of 2 bytes: no error")
	}
}

func TestTimestampedCacheSteadyStateAllocatesNothing(t *testing.T) {
	c := state.NewTimestampedCache(state.NewMemoryBackend(), streams.Int64().Encode, streams.Int64().Decode, 0)
	key := []byte("user-42")
	var ts int64
	allocs := testing.AllocsPerRun(1000, func() {
		ts++
		v, _, _, _ := c.GetTimed(key)
		_ = c.Put(key, v+1, ts)
		sl, _ := c.Slot(key)
		n, _ := sl.Value()
		c.Set(sl, n+1, ts)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per read and write, want 0", allocs)
	}
}
