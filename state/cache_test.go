package state_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/state"
)

// countingBackend is a MemoryBackend that counts calls and can be made to fail.
type countingBackend struct {
	*state.MemoryBackend
	gets, puts, deletes int
	failGet, failPut    error
}

func newCounting() *countingBackend {
	return &countingBackend{MemoryBackend: state.NewMemoryBackend()}
}

func (b *countingBackend) Get(key []byte) ([]byte, bool, error) {
	b.gets++
	if b.failGet != nil {
		return nil, false, b.failGet
	}
	return b.MemoryBackend.Get(key)
}

func (b *countingBackend) Put(key, value []byte) error {
	b.puts++
	if b.failPut != nil {
		return b.failPut
	}
	return b.MemoryBackend.Put(key, value)
}

func (b *countingBackend) Delete(key []byte) error {
	b.deletes++
	return b.MemoryBackend.Delete(key)
}

// stored is the decoded value under key in the backend itself, or -1 if absent.
func (b *countingBackend) stored(t *testing.T, key string) int64 {
	t.Helper()
	raw, ok, err := b.MemoryBackend.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return -1
	}
	v, err := streams.Int64().Decode(raw)
	if err != nil {
		t.Fatalf("backend value of %q: %v", key, err)
	}
	return v
}

func newInt64Cache(b state.Backend, max int) *state.Cache[int64] {
	return state.NewCache(b, streams.Int64().Encode, streams.Int64().Decode, max)
}

func put(t *testing.T, c *state.Cache[int64], k string, v int64) {
	t.Helper()
	if err := c.Put([]byte(k), v); err != nil {
		t.Fatalf("Put(%q, %d): %v", k, v, err)
	}
}

func get(t *testing.T, c *state.Cache[int64], k string) (int64, bool) {
	t.Helper()
	v, ok, err := c.Get([]byte(k))
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	return v, ok
}

func flush(t *testing.T, c *state.Cache[int64]) {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestCacheGetReadsThrough(t *testing.T) {
	b := newCounting()
	enc, _ := streams.Int64().Encode(nil, 42)
	_ = b.MemoryBackend.Put([]byte("k"), enc)
	c := newInt64Cache(b, 0)

	if v, ok := get(t, c, "k"); !ok || v != 42 {
		t.Errorf("Get(k) = %d, %v; want 42, true", v, ok)
	}
	if v, ok := get(t, c, "k"); !ok || v != 42 {
		t.Errorf("second Get(k) = %d, %v; want 42, true", v, ok)
	}
	if b.gets != 1 {
		t.Errorf("backend read %d times for two Gets of one key, want 1", b.gets)
	}

	// A miss is not cached: the backend is asked again.
	for range 2 {
		if v, ok := get(t, c, "absent"); ok || v != 0 {
			t.Errorf("Get(absent) = %d, %v; want 0, false", v, ok)
		}
	}
	if b.gets != 3 || c.Len() != 1 {
		t.Errorf("after two misses: %d backend reads, %d cached; want 3 and 1", b.gets, c.Len())
	}

	// Reading a value does not make it dirty.
	flush(t, c)
	if b.puts != 0 {
		t.Errorf("Flush after reads only wrote %d times", b.puts)
	}
}

func TestCachePutIsWriteBack(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 0)
	put(t, c, "a", 1)
	put(t, c, "a", 2)
	put(t, c, "b", 7)
	if v, ok := get(t, c, "a"); !ok || v != 2 {
		t.Errorf("Get(a) = %d, %v; want 2", v, ok)
	}
	if b.puts != 0 || b.gets != 0 || b.Len() != 0 {
		t.Fatalf("backend touched before Flush: %d puts, %d gets, %d entries", b.puts, b.gets, b.Len())
	}
	flush(t, c)
	if b.puts != 2 {
		t.Errorf("Flush wrote %d times, want once per changed key (2)", b.puts)
	}
	if b.stored(t, "a") != 2 || b.stored(t, "b") != 7 {
		t.Errorf("backend has a=%d b=%d, want 2 and 7", b.stored(t, "a"), b.stored(t, "b"))
	}

	// Flushed entries are clean: a second Flush writes nothing, and they stay cached.
	flush(t, c)
	if b.puts != 2 {
		t.Errorf("second Flush wrote again (%d puts)", b.puts)
	}
	if v, ok := get(t, c, "a"); !ok || v != 2 || b.gets != 0 {
		t.Errorf("Get(a) after Flush = %d, %v with %d backend reads; want 2 from the cache", v, ok, b.gets)
	}

	// Only what changed since the last Flush is written.
	put(t, c, "b", 8)
	flush(t, c)
	if b.puts != 3 || b.stored(t, "b") != 8 {
		t.Errorf("after changing b: %d puts, b=%d; want 3 puts, b=8", b.puts, b.stored(t, "b"))
	}
}

func TestCacheDelete(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 0)
	put(t, c, "a", 1)
	put(t, c, "b", 2)
	flush(t, c)

	if err := c.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, c, "a"); ok || v != 0 {
		t.Errorf("Get(a) after Delete = %d, %v; want 0, false", v, ok)
	}
	if b.stored(t, "a") != 1 {
		t.Error("backend lost a before Flush")
	}
	flush(t, c)
	if b.stored(t, "a") != -1 || b.deletes != 1 {
		t.Errorf("after Flush: backend a=%d, %d deletes; want absent, 1", b.stored(t, "a"), b.deletes)
	}

	// A deleted key is remembered: Get does not read the old value back.
	if _, ok := get(t, c, "a"); ok || b.gets != 0 {
		t.Errorf("Get(a) after flushed Delete: found=%v, %d backend reads", ok, b.gets)
	}

	// Delete of a key the cache has never seen still reaches the backend.
	_ = b.MemoryBackend.Put([]byte("cold"), []byte("12345678"))
	if err := c.Delete([]byte("cold")); err != nil {
		t.Fatal(err)
	}
	if _, ok := get(t, c, "cold"); ok {
		t.Error("Get(cold) found a deleted key")
	}
	flush(t, c)
	if b.stored(t, "cold") != -1 {
		t.Error("Delete of an uncached key never reached the backend")
	}

	// Put after Delete brings the key back.
	put(t, c, "a", 5)
	if v, ok := get(t, c, "a"); !ok || v != 5 {
		t.Errorf("Get(a) after Put following Delete = %d, %v", v, ok)
	}
	flush(t, c)
	if b.stored(t, "a") != 5 {
		t.Errorf("backend a = %d, want 5", b.stored(t, "a"))
	}
}

func TestCacheDeleteThenPutBeforeFlush(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 0)
	put(t, c, "a", 1)
	flush(t, c)
	_ = c.Delete([]byte("a"))
	put(t, c, "a", 3)
	flush(t, c)
	if b.deletes != 0 || b.stored(t, "a") != 3 {
		t.Errorf("Delete then Put: %d deletes, backend a=%d; want only the Put of 3", b.deletes, b.stored(t, "a"))
	}
}

func TestCacheEvictionFlushesThenDrops(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 2)
	put(t, c, "a", 1)
	put(t, c, "b", 2)
	if c.Len() != 2 || b.puts != 0 {
		t.Fatalf("at the bound: %d cached, %d backend writes; want 2, 0", c.Len(), b.puts)
	}

	// A third key does not fit: everything is flushed, then dropped.
	put(t, c, "c", 3)
	if c.Len() != 1 {
		t.Errorf("after eviction %d entries cached, want 1 (the new one)", c.Len())
	}
	if b.stored(t, "a") != 1 || b.stored(t, "b") != 2 {
		t.Errorf("eviction did not flush: backend a=%d b=%d", b.stored(t, "a"), b.stored(t, "b"))
	}
	if b.stored(t, "c") != -1 {
		t.Error("the new entry reached the backend before Flush")
	}

	// Evicted keys read through again.
	if v, ok := get(t, c, "a"); !ok || v != 1 || b.gets != 1 {
		t.Errorf("Get(a) after eviction = %d, %v with %d backend reads; want 1 read through", v, ok, b.gets)
	}
	if v, ok := get(t, c, "c"); !ok || v != 3 {
		t.Errorf("Get(c) = %d, %v; want 3", v, ok)
	}

	// A read-through miss that needs room evicts too, and a dirty delete is flushed
	// as a delete.
	_ = c.Delete([]byte("a"))
	if _, ok := get(t, c, "zzz"); ok {
		t.Error("Get(zzz) found something")
	}
	if b.deletes != 0 {
		t.Errorf("a miss that fits nothing in the cache flushed (%d deletes)", b.deletes)
	}
	put(t, c, "d", 4) // cache holds a (deleted) and c: full
	if b.deletes != 1 || b.stored(t, "a") != -1 || b.stored(t, "c") != 3 {
		t.Errorf("eviction with a pending delete: %d deletes, a=%d c=%d", b.deletes, b.stored(t, "a"), b.stored(t, "c"))
	}
	flush(t, c)
	if b.stored(t, "d") != 4 {
		t.Errorf("backend d = %d, want 4", b.stored(t, "d"))
	}
}

func TestCacheDefaultBound(t *testing.T) {
	b := newCounting()
	c := newInt64Cache(b, 0)
	key := make([]byte, 0, 16)
	for i := range state.DefaultCacheEntries {
		key = fmt.Appendf(key[:0], "k%d", i)
		if err := c.Put(key, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if b.puts != 0 || c.Len() != state.DefaultCacheEntries {
		t.Fatalf("%d entries: %d writes, %d cached; want no eviction yet", state.DefaultCacheEntries, b.puts, c.Len())
	}
	put(t, c, "one-more", 1)
	if b.puts != state.DefaultCacheEntries || c.Len() != 1 {
		t.Errorf("one past the default bound: %d writes, %d cached; want %d, 1", b.puts, c.Len(), state.DefaultCacheEntries)
	}
}

func TestCacheErrors(t *testing.T) {
	t.Run("BackendGet", func(t *testing.T) {
		b := newCounting()
		b.failGet = errors.New("disk on fire")
		c := newInt64Cache(b, 0)
		if _, _, err := c.Get([]byte("k")); !errors.Is(err, b.failGet) {
			t.Errorf("Get = %v, want the backend's error", err)
		}
	})

	t.Run("Decode", func(t *testing.T) {
		b := newCounting()
		_ = b.MemoryBackend.Put([]byte("k"), []byte("short"))
		c := newInt64Cache(b, 0)
		_, ok, err := c.Get([]byte("k"))
		if err == nil || ok || !strings.Contains(err.Error(), "decode stored value") {
			t.Errorf("Get of an undecodable value = %v, %v", ok, err)
		}
		if c.Len() != 0 {
			t.Error("an undecodable value was cached")
		}
	})

	t.Run("FlushRetries", func(t *testing.T) {
		b := newCounting()
		c := newInt64Cache(b, 0)
		put(t, c, "k", 9)
		b.failPut = errors.New("full")
		err := c.Flush()
		if !errors.Is(err, b.failPut) || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("Flush = %v, want the backend's error naming the key", err)
		}
		b.failPut = nil
		flush(t, c)
		if b.stored(t, "k") != 9 {
			t.Errorf("retried Flush left backend k=%d, want 9", b.stored(t, "k"))
		}
	})

	t.Run("Encode", func(t *testing.T) {
		b := newCounting()
		bad := errors.New("cannot encode")
		c := state.NewCache(b, func(dst []byte, v int64) ([]byte, error) { return dst, bad }, streams.Int64().Decode, 0)
		put(t, c, "k", 1)
		if err := c.Flush(); !errors.Is(err, bad) {
			t.Errorf("Flush = %v, want the encoder's error", err)
		}
		if b.puts != 0 {
			t.Error("a value that failed to encode was written")
		}
	})

	t.Run("EvictionFlushFails", func(t *testing.T) {
		b := newCounting()
		c := newInt64Cache(b, 1)
		put(t, c, "a", 1)
		b.failPut = errors.New("full")
		if err := c.Put([]byte("b"), 2); !errors.Is(err, b.failPut) {
			t.Errorf("Put that must evict = %v, want the flush error", err)
		}
		if v, ok := get(t, c, "a"); !ok || v != 1 {
			t.Errorf("a = %d, %v after a failed eviction; the dirty value was lost", v, ok)
		}
	})
}

func TestCacheSteadyStateAllocatesNothing(t *testing.T) {
	c := newInt64Cache(state.NewMemoryBackend(), 0)
	key := []byte("user-42")
	put(t, c, "user-42", 0)
	flush(t, c)
	allocs := testing.AllocsPerRun(1000, func() {
		n, _, err := c.Get(key)
		if err != nil {
			panic(err)
		}
		if err := c.Put(key, n+1); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Get+Put of a cached key allocates %v times per call, want 0", allocs)
	}
	if v, _ := get(t, c, "user-42"); v != 1001 { // AllocsPerRun runs once more to warm up
		t.Errorf("counter = %d, want 1001", v)
	}
}

// keysOfEveryLength returns distinct keys of 0 to 40 bytes, including, for each
// length, keys that differ only in one byte at its start, middle or end, and runs
// of one byte whose lengths differ by one: the cases a comparison of a short key
// by its words must tell apart.
func keysOfEveryLength() [][]byte {
	var keys [][]byte
	seen := map[string]bool{}
	add := func(k []byte) {
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	for n := 0; n <= 40; n++ {
		base := bytes.Repeat([]byte{'a'}, n)
		add(base)
		for _, i := range []int{0, n / 2, n - 1, n / 3, 2 * n / 3} {
			if i < 0 || i >= n {
				continue
			}
			for _, c := range []byte{'b', 0, 0xff} {
				k := bytes.Clone(base)
				k[i] = c
				add(k)
			}
		}
		add(fmt.Appendf(nil, "user-%d", n))
	}
	return keys
}

func TestCacheKeysOfEveryLength(t *testing.T) {
	keys := keysOfEveryLength()
	b := newCounting()
	c := newInt64Cache(b, 0)
	for i, k := range keys {
		if err := c.Put(k, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != len(keys) {
		t.Fatalf("%d keys cached, want %d (distinct keys were taken for the same)", c.Len(), len(keys))
	}
	for i, k := range keys {
		if v, ok, err := c.Get(k); err != nil || !ok || v != int64(i) {
			t.Errorf("Get(%q) = %d, %v, %v; want %d", k, v, ok, err, i)
		}
		s, err := c.Slot(k)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := s.Value(); !ok || v != int64(i) {
			t.Errorf("Slot(%q) holds %d, %v; want %d", k, v, ok, i)
		}
		c.Set(s, int64(i)*10)
	}
	flush(t, c)
	if b.gets != 0 || b.puts != len(keys) {
		t.Errorf("%d backend reads and %d writes, want 0 and %d", b.gets, b.puts, len(keys))
	}
	for i, k := range keys {
		if got := b.stored(t, string(k)); got != int64(i)*10 {
			t.Errorf("backend %q = %d, want %d", k, got, i*10)
		}
	}
}

func TestCacheFlushesInOrderOfFirstChange(t *testing.T) {
	var order []string
	b := &recordingBackend{MemoryBackend: state.NewMemoryBackend(), log: &order}
	c := newInt64Cache(b, 0)
	put(t, c, "c", 1)
	put(t, c, "a", 1)
	put(t, c, "b", 1)
	put(t, c, "c", 2) // already dirty: keeps its place
	_ = c.Delete([]byte("a"))
	flush(t, c)
	if want := []string{"put c", "delete a", "put b"}; !slices.Equal(order, want) {
		t.Errorf("Flush wrote %q, want %q", order, want)
	}
	order = order[:0]
	put(t, c, "b", 5)
	put(t, c, "c", 5)
	flush(t, c)
	if want := []string{"put b", "put c"}; !slices.Equal(order, want) {
		t.Errorf("second Flush wrote %q, want %q", order, want)
	}
}

// recordingBackend logs the writes that reach it.
type recordingBackend struct {
	*state.MemoryBackend
	log *[]string
}

func (b *recordingBackend) Put(key, value []byte) error {
	*b.log = append(*b.log, "put "+string(key))
	return b.MemoryBackend.Put(key, value)
}

func (b *recordingBackend) Delete(key []byte) error {
	*b.log = append(*b.log, "delete "+string(key))
	return b.MemoryBackend.Delete(key)
}

// TestCacheAgreesWithAMap runs random operations on a cache and on a plain map
// with a backend behind it, with bounds small enough to evict often and keys of
// every length, and checks after every step that they agree.
func TestCacheAgreesWithAMap(t *testing.T) {
	keys := keysOfEveryLength()
	for _, bound := range []int{1, 7, 50, 1000} {
		t.Run(fmt.Sprintf("bound=%d", bound), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(bound), 42))
			b := newCounting()
			c := newInt64Cache(b, bound)
			model := map[string]int64{} // what a Get should see
			for step := range 20_000 {
				k := keys[rng.IntN(len(keys))]
				switch op := rng.IntN(10); {
				case op < 3:
					v := rng.Int64N(1000)
					if err := c.Put(k, v); err != nil {
						t.Fatal(err)
					}
					model[string(k)] = v
				case op < 5:
					s, err := c.Slot(k)
					if err != nil {
						t.Fatal(err)
					}
					v, ok := s.Value()
					if want, wok := model[string(k)]; ok != wok || v != want {
						t.Fatalf("step %d: Slot(%q) = %d, %v; want %d, %v", step, k, v, ok, want, wok)
					}
					c.Set(s, v+1)
					model[string(k)] = v + 1
				case op < 6:
					if err := c.Delete(k); err != nil {
						t.Fatal(err)
					}
					delete(model, string(k))
				case op < 7:
					flush(t, c)
				default:
					v, ok, err := c.Get(k)
					if err != nil {
						t.Fatal(err)
					}
					if want, wok := model[string(k)]; ok != wok || v != want {
						t.Fatalf("step %d: Get(%q) = %d, %v; want %d, %v", step, k, v, ok, want, wok)
					}
				}
				if c.Len() > bound {
					t.Fatalf("step %d: %d entries cached, above the bound %d", step, c.Len(), bound)
				}
			}
			flush(t, c)
			if b.Len() != len(model) {
				t.Errorf("backend holds %d keys after Flush, want %d", b.Len(), len(model))
			}
			for k, v := range model {
				if got := b.stored(t, k); got != v {
					t.Errorf("backend %q = %d, want %d", k, got, v)
				}
			}
		})
	}
}

func TestCacheSlotSetAllocatesNothing(t *testing.T) {
	c := state.NewCache(state.NewMemoryBackend(), streams.Bytes().Encode, streams.Bytes().Decode, 0)
	keys := make([][]byte, 5000) // enough to grow the cache's table several times
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%d", i)
		if err := c.Put(keys[i], make([]byte, 8)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		s, err := c.Slot(keys[i%len(keys)])
		if err != nil {
			panic(err)
		}
		v, _ := s.Value()
		v[7]++
		c.Set(s, v)
		i++
	})
	if allocs != 0 {
		t.Errorf("Slot+Set of a cached key allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkCacheGetPut(b *testing.B) {
	c := newInt64Cache(state.NewMemoryBackend(), 0)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%d", i)
		_ = c.Put(keys[i], 0)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&1023]
		n, _, _ := c.Get(k)
		_ = c.Put(k, n+1)
		i++
	}
}

// TestCacheLogsAnEmptyKeyAsEmptyNotNull: a cached entry under the empty key
// (a group key "" of a count, for one) reaches the changelog as an empty key,
// not a nil one. A nil key is a null key to Kafka, which a compacted topic
// rejects: on a real broker the application failed on its next commit.
func TestCacheLogsAnEmptyKeyAsEmptyNotNull(t *testing.T) {
	type logged struct {
		key   []byte
		value []byte
	}
	var log []logged
	backend := &state.Logged{Backend: state.NewMemoryBackend(), Log: func(k, v []byte) { log = append(log, logged{k, v}) }}
	c := state.NewCache(backend, streams.Int64().Encode, streams.Int64().Decode, 16)
	for _, key := range [][]byte{{}, nil} {
		s, err := c.Slot(key)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Value()
		c.Set(s, v+1)
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete([]byte{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("%d changelog writes, want 3 (two puts, a delete)", len(log))
	}
	for i, l := range log {
		if l.key == nil || len(l.key) != 0 {
			t.Errorf("changelog write %d: key %#v, want the empty key []byte{}", i, l.key)
		}
	}
	if got, _ := streams.Int64().Decode(log[1].value); got != 2 {
		t.Errorf("second write: count %d, want 2 (the empty key and nil are one key)", got)
	}
}
