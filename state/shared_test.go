package state_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/gofka/streams/state"
)

func TestSharedBackend(t *testing.T) {
	testBackend(t, func() state.Backend { return state.NewShared(state.NewMemoryBackend()) })
}

func TestSharedViewIsReadOnly(t *testing.T) {
	s := state.NewShared(state.NewMemoryBackend())
	v := s.View()
	if err := v.Put([]byte("k"), []byte("v")); !errors.Is(err, state.ErrReadOnly) {
		t.Errorf("Put through a view = %v, want ErrReadOnly", err)
	}
	if err := v.Delete([]byte("k")); !errors.Is(err, state.ErrReadOnly) {
		t.Errorf("Delete through a view = %v, want ErrReadOnly", err)
	}
	mustPut(t, s, "k", "v")
	if got, ok, err := v.Get([]byte("k")); string(got) != "v" || !ok || err != nil {
		t.Errorf("view Get = %q, %v, %v; want the writer's value", got, ok, err)
	}
}

// TestReadCacheSeesEveryWrite reads through a ReadCache after each write of
// another goroutine's kind (through the Shared), and compares with a map.
func TestReadCacheSeesEveryWrite(t *testing.T) {
	s := state.NewShared(state.NewMemoryBackend())
	c := state.NewReadCache(s.View(), func(b []byte) (int, error) { return strconv.Atoi(string(b)) }, 4)
	want := map[string]int{}
	for i := range 500 {
		k := fmt.Sprintf("k%d", i%7)
		switch i % 5 {
		case 0:
			if err := s.Delete([]byte(k)); err != nil {
				t.Fatal(err)
			}
			delete(want, k)
		case 1, 2:
			mustPut(t, s, k, strconv.Itoa(i))
			want[k] = i
		}
		for j := range 9 { // more keys than the cache holds, and keys never written
			key := fmt.Sprintf("k%d", j)
			got, found, err := c.Get([]byte(key))
			w, wfound := want[key]
			if err != nil || found != wfound || got != w {
				t.Fatalf("step %d: Get(%s) = %d, %v, %v; want %d, %v", i, key, got, found, err, w, wfound)
			}
		}
	}
}

// TestReadCacheHitAllocatesNothing: a lookup of a table that did not change
// since the last one is a map lookup.
func TestReadCacheHitAllocatesNothing(t *testing.T) {
	s := state.NewShared(state.NewMemoryBackend())
	mustPut(t, s, "pen", "150")
	c := state.NewReadCache(s.View(), func(b []byte) (int, error) { return strconv.Atoi(string(b)) }, 0)
	key := []byte("pen")
	var got int
	if a := testing.AllocsPerRun(1000, func() { got, _, _ = c.Get(key) }); a != 0 || got != 150 {
		t.Errorf("a cached lookup: %v allocations, value %d; want 0 and 150", a, got)
	}
}

// TestReadCacheConcurrentWriter runs a writer against readers with their own
// caches (go test -race checks the locking); a reader never sees a value
// that was not written, and sees the last one once the writer is done.
func TestReadCacheConcurrentWriter(t *testing.T) {
	s := state.NewShared(state.NewMemoryBackend())
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := state.NewReadCache(s.View(), func(b []byte) (int, error) { return strconv.Atoi(string(b)) }, 2)
			for {
				select {
				case <-done:
					return
				default:
				}
				for k := range 4 {
					v, found, err := c.Get([]byte(strconv.Itoa(k)))
					if err != nil || (found && (v%4 != k || v < 0)) {
						t.Errorf("reader %d: key %d read %d, %v, %v: never written", r, k, v, found, err)
						return
					}
				}
			}
		}()
	}
	for i := range 4000 {
		mustPut(t, s, strconv.Itoa(i%4), strconv.Itoa(i))
	}
	close(done)
	wg.Wait()
	c := state.NewReadCache(s.View(), func(b []byte) (int, error) { return strconv.Atoi(string(b)) }, 2)
	for k := range 4 {
		if v, _, _ := c.Get([]byte(strconv.Itoa(k))); v != 3996+k {
			t.Errorf("key %d: %d after the writer, want %d", k, v, 3996+k)
		}
	}
}
