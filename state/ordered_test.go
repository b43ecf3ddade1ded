package state_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// orderedBackends are the OrderedBackend implementations every ordered test runs
// on: the memory backend and a real RocksDB store.
var orderedBackends = []struct {
	name string
	new  func(t testing.TB) state.OrderedBackend
}{
	{"memory", func(testing.TB) state.OrderedBackend { return state.NewMemoryBackend() }},
	{"rocksdb", newRocksStore},
}

// newRocksStore returns a store partition of a RocksDB instance in a new pool,
// closed when the test ends.
func newRocksStore(t testing.TB) state.OrderedBackend {
	return rocksStoreIn(t, t.TempDir(), "s")
}

func rocksStoreIn(t testing.TB, dir, name string) *rocks.Store {
	t.Helper()
	p, err := rocks.OpenPool(dir, rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	db, err := p.Open("0_0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := db.Store(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forEachOrdered runs test on every OrderedBackend.
func forEachOrdered(t *testing.T, test func(t *testing.T, newBackend func() state.OrderedBackend)) {
	for _, b := range orderedBackends {
		t.Run(b.name, func(t *testing.T) { test(t, func() state.OrderedBackend { return b.new(t) }) })
	}
}

func scanKeys(t testing.TB, b state.OrderedBackend, from, to []byte) []string {
	t.Helper()
	var out []string
	if err := b.Scan(from, to, func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func bs(s string) []byte {
	if s == "<nil>" {
		return nil
	}
	return []byte(s)
}

func TestOrderedBackendScanAndDeleteRange(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		for _, k := range []string{"b", "a", "ab", "b\x00", "c", "\xff", "abc"} {
			if err := b.Put([]byte(k), []byte("v"+k)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			from, to string
			want     []string
		}{
			{"<nil>", "<nil>", []string{"a=va", "ab=vab", "abc=vabc", "b=vb", "b\x00=vb\x00", "c=vc", "\xff=v\xff"}},
			{"ab", "b\x00", []string{"ab=vab", "abc=vabc", "b=vb"}},
			{"aa", "ab", nil},
			{"b", "<nil>", []string{"b=vb", "b\x00=vb\x00", "c=vc", "\xff=v\xff"}},
			{"d", "c", nil},
		} {
			if got := scanKeys(t, b, bs(c.from), bs(c.to)); !slices.Equal(got, c.want) {
				t.Errorf("Scan(%q, %q) = %q, want %q", c.from, c.to, got, c.want)
			}
		}
		// fn may write; the scan stops at fn's error.
		n := 0
		err := b.Scan([]byte("a"), nil, func(k, v []byte) error {
			if n++; n == 3 {
				return fmt.Errorf("stop at %s", k)
			}
			return b.Put(append(bytes.Clone(k), 'z'), v)
		})
		if err == nil || err.Error() != "stop at abc" {
			t.Errorf("Scan stopped with %v, want stop at abc (az and abz written meanwhile may or may not be seen)", err)
		}
		if got, want := scanKeys(t, b, []byte("ab"), []byte("b")), []string{"ab=vab", "abc=vabc", "abz=vab", "az=va"}; !slices.Equal(got, want) {
			t.Errorf("after writes during a scan: %q, want %q", got, want)
		}
		if err := b.DeleteRange([]byte("ab"), []byte("b\x00")); err != nil {
			t.Fatal(err)
		}
		want := []string{"a=va", "b\x00=vb\x00", "c=vc", "\xff=v\xff"}
		if got := scanKeys(t, b, nil, nil); !slices.Equal(got, want) {
			t.Errorf("after DeleteRange(ab, b\\x00): %q, want %q", got, want)
		}
		if err := b.DeleteRange([]byte("c"), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteRange(nil, []byte("b")); err != nil {
			t.Fatal(err)
		}
		if got, want := scanKeys(t, b, nil, nil), []string{"b\x00=vb\x00"}; !slices.Equal(got, want) {
			t.Errorf("after DeleteRange(c, nil) and (nil, b): %q, want %q", got, want)
		}
		if _, ok, _ := b.Get([]byte("c")); ok {
			t.Error("Get(c) found a deleted key")
		}
		if err := b.DeleteRange(nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteRange(nil, nil); err != nil { // empty: nothing to do
			t.Fatal(err)
		}
		if got := scanKeys(t, b, nil, nil); len(got) != 0 {
			t.Errorf("after DeleteRange(nil, nil): %q", got)
		}
	})
}

func TestLoggedForwardsScanAndDoesNotLogDeleteRange(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		var log []string
		l := &state.Logged{Backend: newBackend(), Log: func(k, v []byte) { log = append(log, fmt.Sprintf("%s=%q", k, v)) }}
		for _, k := range []string{"a", "b", "c"} {
			if err := l.Put([]byte(k), []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.DeleteRange([]byte("a"), []byte("c")); err != nil {
			t.Fatal(err)
		}
		if got, want := scanKeys(t, l, nil, nil), []string{"c=c"}; !slices.Equal(got, want) {
			t.Errorf("Scan through Logged = %q, want %q", got, want)
		}
		if want := []string{`a="a"`, `b="b"`, `c="c"`}; !slices.Equal(log, want) {
			t.Errorf("changelog %q, want %q (DeleteRange not logged)", log, want)
		}
	})
	l := &state.Logged{Backend: plainBackend{state.NewMemoryBackend()}, Log: func(k, v []byte) {}}
	if err := l.Scan(nil, nil, func(k, v []byte) error { return nil }); err == nil {
		t.Error("Scan through Logged over an unordered backend: no error")
	}
}

// plainBackend hides MemoryBackend's ordered methods.
type plainBackend struct{ b *state.MemoryBackend }

func (p plainBackend) Get(k []byte) ([]byte, bool, error)     { return p.b.Get(k) }
func (p plainBackend) Put(k, v []byte) error                  { return p.b.Put(k, v) }
func (p plainBackend) Delete(k []byte) error                  { return p.b.Delete(k) }
func (p plainBackend) Range(fn func(k, v []byte) error) error { return p.b.Range(fn) }

// TestMemoryBackendOrderModel puts and deletes random keys (many deleted and
// put again between scans) and checks every scan against a sorted model.
func TestMemoryBackendOrderModel(t *testing.T) {
	b := state.NewMemoryBackend()
	model := map[string]string{}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		// Few keys and rare scans: many keys are put again after a delete between
		// scans, enough to make the backend compact its list of new keys.
		k := fmt.Sprintf("k%03d", rng.IntN(50))
		switch op := rng.IntN(2000); {
		case op < 1000:
			v := fmt.Sprint(i % 7) // values of a few lengths: some Puts overwrite in place
			if i%2 == 0 {
				v += "-longer"
			}
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
			model[k] = v
		case op < 1996:
			if err := b.Delete([]byte(k)); err != nil {
				t.Fatal(err)
			}
			delete(model, k)
		case op < 1997:
			to := fmt.Sprintf("k%03d", rng.IntN(50))
			if err := b.DeleteRange([]byte(k), []byte(to)); err != nil {
				t.Fatal(err)
			}
			for mk := range model {
				if mk >= k && mk < to {
					delete(model, mk)
				}
			}
		default:
			var want []string
			for mk, v := range model {
				want = append(want, mk+"="+v)
			}
			slices.Sort(want)
			if got := scanKeys(t, b, nil, nil); !slices.Equal(got, want) {
				t.Fatalf("op %d: Scan = %q, want %q", i, got, want)
			}
		}
		if b.Len() != len(model) {
			t.Fatalf("op %d: Len = %d, want %d", i, b.Len(), len(model))
		}
	}
}

// TestMemoryBackendCompactsNewKeys puts and deletes many keys between scans
// (the list of new keys outgrows the map, and is compacted on the way) and
// keeps every fourth: the scan lists exactly those.
func TestMemoryBackendCompactsNewKeys(t *testing.T) {
	b := state.NewMemoryBackend()
	scanKeys(t, b, nil, nil) // from now on the backend keeps its keys in order
	var want []string
	for i := range 4000 {
		k := fmt.Appendf(nil, "k%05d", i)
		if err := b.Put(k, []byte("v")); err != nil {
			t.Fatal(err)
		}
		if i%4 == 3 {
			want = append(want, string(k)+"=v")
		} else if err := b.Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	if got := scanKeys(t, b, nil, nil); !slices.Equal(got, want) {
		t.Errorf("Scan lists %d keys, want %d", len(got), len(want))
	}
}
