package state_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/gofka/streams/state"
)

var _ state.Backend = (*state.MemoryBackend)(nil)

func TestMemoryBackend(t *testing.T) {
	testBackend(t, func() state.Backend { return state.NewMemoryBackend() })
}

// testBackend checks the Backend contract; every Backend implementation can run it.
func testBackend(t *testing.T, newBackend func() state.Backend) {
	t.Run("GetAbsent", func(t *testing.T) {
		b := newBackend()
		if v, ok, err := b.Get([]byte("nope")); v != nil || ok || err != nil {
			t.Errorf("Get(absent) = %q, %v, %v; want nil, false, nil", v, ok, err)
		}
	})

	t.Run("PutGetOverwrite", func(t *testing.T) {
		b := newBackend()
		for _, v := range []string{"first", "a much longer second value", "3rd", ""} {
			mustPut(t, b, "k", v)
			got, ok, err := b.Get([]byte("k"))
			if err != nil || !ok || string(got) != v {
				t.Errorf("after Put(k, %q): Get = %q, %v, %v", v, got, ok, err)
			}
		}
	})

	t.Run("PutCopies", func(t *testing.T) {
		b := newBackend()
		key, value := []byte("key"), []byte("value")
		if err := b.Put(key, value); err != nil {
			t.Fatal(err)
		}
		copy(key, "XXX")
		copy(value, "XXXXX")
		if got, ok, _ := b.Get([]byte("key")); !ok || string(got) != "value" {
			t.Errorf("Get after the caller reused its buffers = %q, %v; want \"value\"", got, ok)
		}
		if _, ok, _ := b.Get([]byte("XXX")); ok {
			t.Error("the caller's key buffer became a key")
		}
	})

	t.Run("Delete", func(t *testing.T) {
		b := newBackend()
		mustPut(t, b, "a", "1")
		mustPut(t, b, "b", "2")
		if err := b.Delete([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := b.Get([]byte("a")); ok {
			t.Error("a found after Delete")
		}
		if v, ok, _ := b.Get([]byte("b")); !ok || string(v) != "2" {
			t.Errorf("b = %q, %v after deleting a", v, ok)
		}
		if err := b.Delete([]byte("never-there")); err != nil {
			t.Errorf("Delete(absent) = %v, want nil", err)
		}
		mustPut(t, b, "a", "again")
		if v, ok, _ := b.Get([]byte("a")); !ok || string(v) != "again" {
			t.Errorf("a = %q, %v after Put following Delete", v, ok)
		}
	})

	t.Run("RangeInKeyOrder", func(t *testing.T) {
		b := newBackend()
		keys := []string{"b", "a\x00", "", "\xff", "a", "ab", "B", "aa"}
		for i, k := range keys {
			mustPut(t, b, k, fmt.Sprint(i))
		}
		mustPut(t, b, "gone", "x")
		if err := b.Delete([]byte("gone")); err != nil {
			t.Fatal(err)
		}
		var gotKeys []string
		err := b.Range(func(k, v []byte) error {
			gotKeys = append(gotKeys, string(k))
			if want := fmt.Sprint(slices.Index(keys, string(k))); string(v) != want {
				t.Errorf("Range gave %q=%q, want %q", k, v, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) })
		if !slices.Equal(gotKeys, want) {
			t.Errorf("Range order %q, want %q", gotKeys, want)
		}
	})

	t.Run("RangeStopsOnError", func(t *testing.T) {
		b := newBackend()
		for _, k := range []string{"a", "b", "c", "d"} {
			mustPut(t, b, k, k)
		}
		stop := errors.New("stop")
		var seen []string
		err := b.Range(func(k, v []byte) error {
			seen = append(seen, string(k))
			if string(k) == "b" {
				return stop
			}
			return nil
		})
		if err != stop {
			t.Errorf("Range = %v, want the callback's error", err)
		}
		if !slices.Equal(seen, []string{"a", "b"}) {
			t.Errorf("Range visited %q after the error, want [a b]", seen)
		}
	})

	t.Run("RangeEmpty", func(t *testing.T) {
		b := newBackend()
		if err := b.Range(func(k, v []byte) error { t.Errorf("callback on empty backend: %q", k); return nil }); err != nil {
			t.Error(err)
		}
	})
}

func mustPut(t *testing.T, b state.Backend, k, v string) {
	t.Helper()
	if err := b.Put([]byte(k), []byte(v)); err != nil {
		t.Fatalf("Put(%q, %q): %v", k, v, err)
	}
}

func TestMemoryBackendLen(t *testing.T) {
	b := state.NewMemoryBackend()
	if b.Len() != 0 {
		t.Fatalf("new backend has %d entries", b.Len())
	}
	mustPut(t, b, "a", "1")
	mustPut(t, b, "b", "1")
	mustPut(t, b, "a", "2")
	if b.Len() != 2 {
		t.Errorf("Len = %d, want 2", b.Len())
	}
	_ = b.Delete([]byte("a"))
	if b.Len() != 1 {
		t.Errorf("Len after Delete = %d, want 1", b.Len())
	}
}

func TestMemoryBackendNilValue(t *testing.T) {
	b := state.NewMemoryBackend()
	if err := b.Put([]byte("k"), nil); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := b.Get([]byte("k")); !ok || len(v) != 0 || err != nil {
		t.Errorf("Get after Put(k, nil) = %q, %v, %v; want an empty value, found", v, ok, err)
	}
}

// TestMemoryBackendReusesNothingItLent: an ordered MemoryBackend copies keys
// into shared chunks and reuses removed entries' values; a key it lent (by
// Scan) keeps its bytes after the entry is removed and others are written,
// and every entry keeps its own value.
func TestMemoryBackendReusesNothingItLent(t *testing.T) {
	b := state.NewMemoryBackend()
	var lent []string
	for round := range 20 {
		for i := range 100 {
			mustPut(t, b, fmt.Sprintf("%03d-%03d", round, i), fmt.Sprintf("v%03d-%03d", round, i))
		}
		if err := b.Scan([]byte(fmt.Sprintf("%03d-", round)), nil, func(k, _ []byte) error {
			lent = append(lent, unsafeString(k)) // aliases the backend's key, as a decoder may
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteRange(nil, []byte(fmt.Sprintf("%03d-", round))); err != nil { // the rounds before
			t.Fatal(err)
		}
	}
	for i, k := range lent {
		if want := fmt.Sprintf("%03d-%03d", i/100, i%100); k != want {
			t.Fatalf("a lent key reads %q, want %q", k, want)
		}
	}
	if b.Len() != 100 {
		t.Fatalf("%d entries, want the last round's 100", b.Len())
	}
	for i := range 100 {
		k := fmt.Sprintf("019-%03d", i)
		if v, ok, _ := b.Get([]byte(k)); !ok || string(v) != "v"+k {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, v, ok, "v"+k)
		}
	}
}

// TestMemoryBackendWindowCycleAllocs: a window store's cycle (new keys
// written at a commit, old ones removed by DeleteRange) allocates nothing per
// entry once the backend is warm: keys go into chunks, values reuse removed ones.
func TestMemoryBackendWindowCycleAllocs(t *testing.T) {
	b := state.NewMemoryBackend()
	const perRound = 1000
	round := 0
	key := make([]byte, 0, 16)
	value := make([]byte, 16)
	cycle := func() {
		for i := range perRound {
			key = strconv.AppendInt(append(strconv.AppendInt(key[:0], int64(100000+round), 10), '-'), int64(100000+i), 10)
			_ = b.Put(key, value)
		}
		if round >= 2 {
			key = append(strconv.AppendInt(key[:0], int64(100000+round-1), 10), '-')
			_ = b.DeleteRange(nil, key)
		}
		round++
	}
	for range 3 {
		cycle()
	}
	// What is left is the backend's chunks (one per keyChunk bytes: 13-byte
	// keys, 1,000 a round) and the B-tree's nodes.
	perEntry := testing.AllocsPerRun(20, cycle) / perRound
	t.Logf("%.4f allocations per entry", perEntry)
	if perEntry > 0.02 {
		t.Errorf("%.3f allocations per entry written and removed, want about 0", perEntry)
	}
}

// unsafeString is k as a string without a copy, as a key decoder may make it.
func unsafeString(k []byte) string { return unsafe.String(unsafe.SliceData(k), len(k)) }
