package state_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// TestWindowStoreRestoreFromSnapshotAndChangelog fills a window store in a real
// RocksDB instance through a changelog-logging backend, with expiry on the way,
// then restores it twice as the runtime does: from a RocksDB checkpoint (a
// snapshot) installed into a new pool, and by replaying the changelog into an
// empty instance. Both give the same windows as the original.
func TestWindowStoreRestoreFromSnapshotAndChangelog(t *testing.T) {
	pool, err := rocks.OpenPool(t.TempDir(), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := pool.Open("1_0")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := db.Store("windows", 0)
	if err != nil {
		t.Fatal(err)
	}
	var changelog []change
	logged := &state.Logged{Backend: raw, Log: func(k, v []byte) { changelog = append(changelog, newChange(k, v)) }}
	spec := state.WindowSpec{Size: 100, Retention: 150, SegmentInterval: 75}
	w := state.NewWindowStore(logged, encodeInt, decodeInt, spec, 64)
	rng := rand.New(rand.NewPCG(5, 6))
	keys := []string{"alice", "bob", "carol", "dave"}
	streamTime := int64(0)
	for i := range 2000 {
		streamTime += rng.Int64N(3)
		ts := streamTime - rng.Int64N(40) // out of order within the grace
		start := ts - ts%100              // tumbling windows of 100
		if start < streamTime-spec.Retention+1 {
			continue // late
		}
		add(t, w, keys[rng.IntN(len(keys))], start, 1, ts)
		if err := w.Expire(streamTime); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]win{}
	for _, k := range keys {
		want[k] = fetch(t, w, k, -1<<62, 1<<62)
		if len(want[k]) == 0 {
			t.Fatalf("key %s has no live windows: the test proves nothing", k)
		}
	}

	// From a snapshot: RocksDB's checkpoint, installed into another pool.
	cp := filepath.Join(pool.StagingDir(), "cp")
	if _, err := db.Checkpoint(cp); err != nil {
		t.Fatal(err)
	}
	pool2, err := rocks.OpenPool(t.TempDir(), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	staged := filepath.Join(pool2.StagingDir(), "cp")
	copyTree(t, cp, staged)
	if err := pool2.Install("1_0", staged); err != nil {
		t.Fatal(err)
	}
	db2, err := pool2.Open("1_0")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	fromSnapshot, err := db2.Store("windows", 0)
	if err != nil {
		t.Fatal(err)
	}

	// From the changelog: replayed into an empty instance.
	db3, err := pool2.Open("1_1")
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	fromChangelog, err := db3.Store("windows", 0)
	if err != nil {
		t.Fatal(err)
	}
	replay(t, fromChangelog, changelog)

	for name, b := range map[string]state.Backend{"snapshot": fromSnapshot, "changelog": fromChangelog} {
		r := state.NewWindowStore(b, encodeInt, decodeInt, spec, 64)
		if err := r.Expire(streamTime); err != nil { // the task's first record does this
			t.Fatal(err)
		}
		for _, k := range keys {
			if got := fetch(t, r, k, -1<<62, 1<<62); !slices.Equal(got, want[k]) {
				t.Errorf("restored from %s: %s has %v, want %v", name, k, got, want[k])
			}
		}
	}
}

// copyTree copies the regular files of src into a new directory dst, as a
// download from a snapshot store would.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
