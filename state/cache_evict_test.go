package state_test

import (
	"fmt"
	"testing"

	"github.com/gofka/streams/state"
)

// TestCacheEvictionAllocatesNothingPerKey: a cache whose keys outnumber its
// bound empties and fills again and again; the keys after each eviction go
// into the arena the evicted ones used, so in steady state a new key costs no
// allocation (values of a fixed size are overwritten in place by the
// MemoryBackend).
func TestCacheEvictionAllocatesNothingPerKey(t *testing.T) {
	b := state.NewMemoryBackend()
	c := newInt64Cache(b, 100)
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "a-longer-key-than-sixteen-bytes-%d", i) // hashed and compared as bytes
		if i%2 == 0 {
			keys[i] = fmt.Appendf(nil, "k%d", i) // compared by its words
		}
	}
	round := func() {
		for _, k := range keys {
			n, _, err := c.Get(k)
			if err != nil {
				panic(err)
			}
			if err := c.Put(k, n+1); err != nil {
				panic(err)
			}
		}
	}
	round() // the backend gets every key
	allocs := testing.AllocsPerRun(3, func() {
		if err := c.Put([]byte("x"), 0); err != nil { // never read: no read-through copy
			panic(err)
		}
		for _, k := range keys {
			if err := c.Put(k, int64(len(k))); err != nil {
				panic(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("a round of %d keys through a cache of 100 allocates %v times, want 0", len(keys), allocs)
	}
	flush(t, c)
	for _, k := range keys {
		if v, ok := get(t, c, string(k)); !ok || v != int64(len(k)) {
			t.Fatalf("%s = %d, %v after evictions; want %d", k, v, ok, len(k))
		}
	}
}
