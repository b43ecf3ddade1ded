package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// TestWindowQueryEqualsBruteForce writes windows through a task's
// WindowStore, flushes it, and lists a key's windows as GET
// /stores/{store}/{key}?from=&to= does: they equal the windows written,
// filtered here.
func TestWindowQueryEqualsBruteForce(t *testing.T) {
	ss, is := streams.StringSerde[string]{}, streams.IntSerde[int64]{}
	spec := state.WindowSpec{Size: 1000, Retention: 1_000_000}
	b := state.NewMemoryBackend()
	ws := state.NewWindowStore(b, is.Encode, is.Decode, spec, 0)
	type win struct {
		key      string
		start, v int64
	}
	var written []win
	for i := range 200 {
		k, start := fmt.Sprintf("k%d", i%3), int64(i/3)*1000
		s, err := ws.Slot([]byte(k), start)
		if err != nil {
			t.Fatal(err)
		}
		ws.Set(s, int64(i), start)
		written = append(written, win{k, start, int64(i)})
	}
	if err := ws.Flush(); err != nil {
		t.Fatal(err)
	}
	q := runtime.WindowQueryOf[string, int64](ss.Encode, ss.Decode, is.Encode, is.Decode, spec)
	for _, tc := range []url.Values{{}, {"from": {"5000"}, "to": {"12000"}}, {"from": {"99999999"}}} {
		from, to, err := windowParams(tc)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.Has("to") && to != math.MaxInt64 {
			t.Fatalf("default to: %d", to)
		}
		got, err := q.Windows(b, []byte("k1"), from, to)
		if err != nil {
			t.Fatal(err)
		}
		var want []runtime.WindowEntry
		for _, w := range written {
			if w.key == "k1" && w.start >= from && w.start <= to {
				want = append(want, runtime.WindowEntry{Start: w.start, End: w.start + 1000, Value: json.RawMessage(fmt.Sprint(w.v))})
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%v: %d windows, want %d", tc, len(got), len(want))
		}
		for i := range got {
			if got[i].Start != want[i].Start || got[i].End != want[i].End || string(got[i].Value) != string(want[i].Value) {
				t.Errorf("%v: window %d: %+v, want %+v", tc, i, got[i], want[i])
			}
		}
	}
	if _, _, err := windowParams(url.Values{"from": {"x"}}); err == nil {
		t.Error("from=x: no error")
	}
}
