package state_test

import (
	"bytes"
	"fmt"
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
