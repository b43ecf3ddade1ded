package state_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gofka/streams/state"
)

func evict(t testing.TB, sb *state.SuppressBuffer, until int64) []string {
	t.Helper()
	var out []string
	if err := sb.EvictUntil(until, func(k, v []byte, ts int64) error {
		out = append(out, fmt.Sprintf("%s=%s@%d", k, v, ts))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func newSuppress(t testing.TB, b state.Backend) *state.SuppressBuffer {
	t.Helper()
	return state.NewSuppressBuffer(b)
}

func suppressPut(t testing.TB, sb *state.SuppressBuffer, key string, closeTime int64, value string, ts int64) {
	t.Helper()
	if err := sb.Put([]byte(key), closeTime, []byte(value), ts); err != nil {
		t.Fatal(err)
	}
}

func TestSuppressBuffer(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		b := newBackend()
		var changelog []change
		logged := &state.Logged{Backend: b, Log: func(k, v []byte) { changelog = append(changelog, newChange(k, v)) }}
		sb := newSuppress(t, logged)
		suppressPut(t, sb, "b", 20, "b1", 11)
		suppressPut(t, sb, "a", 20, "a1", 12)
		suppressPut(t, sb, "c", 10, "c1", 5)
		suppressPut(t, sb, "b", 20, "b2", 15) // replaces b's entry
		suppressPut(t, sb, "d", 5, "d1", 1)
		suppressPut(t, sb, "d", 30, "d2", 25) // replaces d's, with a later close time
		if sb.Len() != 4 {
			t.Errorf("Len = %d, want 4", sb.Len())
		}
		if got := evict(t, sb, 9); got != nil {
			t.Errorf("EvictUntil(9) = %q: d moved to 30", got)
		}
		if got, want := evict(t, sb, 20), []string{"c=c1@5", "a=a1@12", "b=b2@15"}; !slices.Equal(got, want) {
			t.Errorf("EvictUntil(20) = %q, want %q (close time, then key)", got, want)
		}
		if sb.Len() != 1 {
			t.Errorf("Len = %d after evicting 3 of 4", sb.Len())
		}
		if err := sb.Flush(); err != nil {
			t.Fatal(err)
		}
		// A failing fn keeps its entry.
		suppressPut(t, sb, "e", 30, "e1", 26)
		boom := errors.New("boom")
		if err := sb.EvictUntil(100, func(k, v []byte, ts int64) error { return boom }); err != boom {
			t.Errorf("EvictUntil with a failing fn = %v, want boom", err)
		}
		if err := sb.Flush(); err != nil {
			t.Fatal(err)
		}
		// A new buffer over the backend, and one over a replay of the changelog,
		// hold what is pending.
		fresh := newBackend()
		replay(t, fresh, changelog)
		for name, back := range map[string]state.Backend{"reloaded": b, "replayed": fresh} {
			sb2 := newSuppress(t, back)
			if sb2.Len() != 2 {
				t.Errorf("%s: Len = %d, want 2", name, sb2.Len())
			}
			if got, want := evict(t, sb2, 100), []string{"d=d2@25", "e=e1@26"}; !slices.Equal(got, want) {
				t.Errorf("%s: EvictUntil(100) = %q, want %q", name, got, want)
			}
		}
		// Evicted entries' deletions are logged at Flush.
		evict(t, sb, 100)
		if err := sb.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := scanKeys(t, b, nil, nil); len(got) != 0 {
			t.Errorf("backend holds %q after everything was emitted and flushed", got)
		}
		last := map[string][]byte{}
		for _, c := range changelog {
			last[string(c.key)] = c.value
		}
		for k, v := range last {
			if v != nil {
				t.Errorf("changelog's last record of %q is %q, want a tombstone", k, v)
			}
		}
	})
}

func TestSuppressBufferEvictOldest(t *testing.T) {
	sb := newSuppress(t, state.NewMemoryBackend())
	for i, k := range []string{"c", "a", "d", "b"} {
		suppressPut(t, sb, k, int64(100-10*i), k+"1", int64(i))
	}
	suppressPut(t, sb, "c", 50, "c2", 9) // moved: its old place in the order is stale
	var got []string
	if err := sb.EvictOldest(2, func(k, v []byte, ts int64) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c=c2", "b=b1"}; !slices.Equal(got, want) {
		t.Errorf("EvictOldest(2) = %q, want %q", got, want)
	}
	if sb.Len() != 2 {
		t.Errorf("Len = %d, want 2", sb.Len())
	}
	if got := evict(t, sb, 1000); !slices.Equal(got, []string{"d=d1@2", "a=a1@1"}) {
		t.Errorf("the rest: %q", got)
	}
}

func TestSuppressBufferBadStoredEntry(t *testing.T) {
	b := state.NewMemoryBackend()
	if err := b.Put([]byte("k"), []byte("short")); err != nil {
		t.Fatal(err)
	}
	sb := state.NewSuppressBuffer(b)
	for name, err := range map[string]error{
		"Put":        sb.Put([]byte("a"), 1, nil, 1),
		"EvictUntil": sb.EvictUntil(1, func([]byte, []byte, int64) error { return nil }),
		"Flush":      sb.Flush(),
	} {
		if err == nil || !strings.Contains(err.Error(), `load suppress buffer: entry "k" has 5 bytes, want at least 16`) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestSuppressBufferUpdateKeepsFirstTime: Update keeps a pending key's close
// time (its first update's), takes the latest value, and Remove drops a pending
// key for good, also from the backend at Flush.
func TestSuppressBufferUpdateKeepsFirstTime(t *testing.T) {
	b := state.NewMemoryBackend()
	sb := newSuppress(t, b)
	for _, u := range []struct {
		key   string
		close int64
		value string
	}{{"a", 10, "a1"}, {"b", 12, "b1"}, {"a", 20, "a2"}, {"c", 5, "c1"}, {"c", 30, "c2"}} {
		if err := sb.Update([]byte(u.key), u.close, []byte(u.value), u.close); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.Remove([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := sb.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := evict(t, newSuppress(t, b), 10); !slices.Equal(got, []string{"c=c2@30", "a=a2@20"}) {
		t.Errorf("restored and evicted until 10: %q, want c (first at 5) and a (first at 10) with their latest values, not b", got)
	}
	if got := evict(t, sb, 1000); !slices.Equal(got, []string{"c=c2@30", "a=a2@20"}) {
		t.Errorf("evicted until 1000: %q", got)
	}
}
