package state_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gofka/streams/state"
)

// slidingAgg runs records through WindowStore.Slide and Put as generated code
// does, with Kafka Streams' MockAggregator.TOSTRING_ADDER (agg + "+" + value,
// from "0") or, reduce set, MockReducer.STRING_ADDER (agg + "+" + value, from the
// first value). It collects the forwarded updates.
type slidingAgg struct {
	t          *testing.T
	w          *state.WindowStore[string]
	d, grace   int64
	reduce     bool
	streamTime int64
	steps      []state.SlidingStep[string]
	out        []slidingOut
	dropped    int
}

type slidingOut struct {
	key   string
	start int64
	v     string
	ts    int64
}

func newSlidingAgg(t *testing.T, b state.Backend, d, grace int64) *slidingAgg {
	enc := func(dst []byte, s string) ([]byte, error) { return append(dst, s...), nil }
	dec := func(b []byte) (string, error) { return string(b), nil }
	w := state.NewWindowStore(b, enc, dec, state.WindowSpec{Size: d, Retention: 2*d + grace}, 0)
	return &slidingAgg{t: t, w: w, d: d, grace: grace}
}

func (a *slidingAgg) pipe(ts int64, v string) { a.pipeKey("A", ts, v) }

func (a *slidingAgg) pipeKey(key string, ts int64, v string) {
	a.t.Helper()
	a.streamTime = max(a.streamTime, ts)
	if err := a.w.Expire(a.streamTime); err != nil {
		a.t.Fatal(err)
	}
	closeTime := a.streamTime - a.grace
	if ts+1+a.d <= closeTime {
		a.dropped++
		return
	}
	var err error
	a.steps, err = a.w.Slide([]byte(key), ts, a.d, closeTime, a.steps)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, st := range a.steps {
		agg, wts := st.Agg, st.TS
		if !st.Copy {
			switch {
			case !st.Found && a.reduce:
				agg = v
			case !st.Found:
				agg = "0+" + v
			default:
				agg += "+" + v
			}
			wts = max(wts, ts)
		}
		if err := a.w.Put([]byte(key), st.Start, agg, wts); err != nil {
			a.t.Fatal(err)
		}
		a.out = append(a.out, slidingOut{key, st.Start, agg, wts})
	}
}

// byStart groups the updates by window start, as Kafka Streams' test compares
// them (a set per start).
func (a *slidingAgg) byStart() map[int64][]string {
	m := map[int64][]string{}
	for _, o := range a.out {
		m[o.start] = append(m[o.start], fmt.Sprintf("%s@%d", o.v, o.ts))
	}
	for _, vs := range m {
		slices.Sort(vs)
	}
	return m
}

func sorted(vs ...string) []string { return slices.Sorted(slices.Values(vs)) }

func checkByStart(t *testing.T, got, want map[int64][]string) {
	t.Helper()
	for start, w := range want {
		if !slices.Equal(got[start], w) {
			t.Errorf("window start %d: got %v, want %v", start, got[start], w)
		}
	}
	for start, g := range got {
		if _, ok := want[start]; !ok {
			t.Errorf("window start %d: got %v, want none", start, g)
		}
	}
}

// TestSlidingAggregateSmallInput ports KStreamSlidingWindowAggregateTest.
// testAggregateSmallInput (emit on every update): same input, same expected updates.
func TestSlidingAggregateSmallInput(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		a := newSlidingAgg(t, newBackend(), 10, 5)
		for _, r := range []struct {
			v  string
			ts int64
		}{{"1", 10}, {"2", 10}, {"3", 14}, {"4", 15}, {"5", 20}, {"6", 22}, {"7", 30}} {
			a.pipe(r.ts, r.v)
		}
		checkByStart(t, a.byStart(), map[int64][]string{
			0:  sorted("0+1@10", "0+1+2@10"),
			4:  sorted("0+1+2+3@14"),
			5:  sorted("0+1+2+3+4@15"),
			10: sorted("0+1+2+3+4+5@20"),
			11: sorted("0+3@14", "0+3+4@15", "0+3+4+5@20"),
			12: sorted("0+3+4+5+6@22"),
			15: sorted("0+4@15", "0+4+5@20", "0+4+5+6@22"),
			16: sorted("0+5@20", "0+5+6@22"),
			20: sorted("0+5+6+7@30"),
			21: sorted("0+6@22", "0+6+7@30"),
			23: sorted("0+7@30"),
		})
	})
}

// TestSlidingReduceSmallInput ports KStreamSlidingWindowAggregateTest.testReduceSmallInput.
func TestSlidingReduceSmallInput(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		a := newSlidingAgg(t, newBackend(), 10, 5)
		a.reduce = true
		for _, r := range []struct {
			v  string
			ts int64
		}{{"1", 10}, {"2", 14}, {"3", 15}, {"4", 22}, {"5", 26}, {"6", 30}} {
			a.pipe(r.ts, r.v)
		}
		checkByStart(t, a.byStart(), map[int64][]string{
			0:  sorted("1@10"),
			4:  sorted("1+2@14"),
			5:  sorted("1+2+3@15"),
			11: sorted("2@14", "2+3@15"),
			12: sorted("2+3+4@22"),
			15: sorted("3@15", "3+4@22"),
			16: sorted("4@22", "4+5@26"),
			20: sorted("4+5+6@30"),
			23: sorted("5@26", "5+6@30"),
			27: sorted("6@30"),
		})
	})
}

// TestSlidingMatchesBruteForce pipes random input, out of order within the
// grace, and checks every window's final aggregate against a brute force: the
// windows of a key are the left window [t-d, t] of each record at t ([0, d] when
// t < d) and the right window [t+1, t+1+d] of each record with a later one within
// d; each holds the records whose times it covers.
func TestSlidingMatchesBruteForce(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, 14))
			const d, grace = 10, 1000
			a := newSlidingAgg(t, newBackend(), d, grace)
			a.reduce = true
			var times []int64
			for i := range 60 {
				ts := int64(rng.IntN(200))
				times = append(times, ts)
				a.pipe(ts, fmt.Sprint(i))
			}
			// The final aggregate of each window: the last update of each start.
			got := map[int64]int{}
			for _, o := range a.out {
				got[o.start] = len(splitPlus(o.v))
			}
			want := map[int64]int{}
			count := func(lo, hi int64) int {
				n := 0
				for _, x := range times {
					if lo <= x && x <= hi {
						n++
					}
				}
				return n
			}
			for _, x := range times {
				left := max(x-d, 0)
				want[left] = count(left, left+d)
				for _, y := range times {
					if x < y && y <= x+d {
						want[x+1] = count(x+1, x+1+d)
					}
				}
			}
			if a.dropped != 0 {
				t.Fatalf("seed %d: %d records dropped within the grace", seed, a.dropped)
			}
			for start, n := range want {
				if got[start] != n {
					t.Errorf("seed %d: window [%d, %d]: %d records, want %d", seed, start, start+d, got[start], n)
				}
			}
			for start := range got {
				if _, ok := want[start]; !ok {
					t.Errorf("seed %d: window [%d, %d] made, want none", seed, start, start+d)
				}
			}
		}
	})
}

func splitPlus(s string) []string {
	var out []string
	from := 0
	for i := range len(s) {
		if s[i] == '+' {
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	return append(out, s[from:])
}

// TestSlidingAggregateLargeInput ports KStreamSlidingWindowAggregateTest.
// testAggregateLargeInput (emit on every update, grace 50 ms): four keys, each
// with records out of order. The test sorts the updates by key and window start
// (a stable sort: a window's updates stay in forwarding order) and compares them
// with this list.
func TestSlidingAggregateLargeInput(t *testing.T) {
	forEachOrdered(t, func(t *testing.T, newBackend func() state.OrderedBackend) {
		a := newSlidingAgg(t, newBackend(), 10, 50)
		for _, r := range []struct {
			key, v string
			ts     int64
		}{
			{"A", "1", 10}, {"A", "2", 20}, {"A", "3", 22}, {"A", "4", 15},
			{"B", "1", 12}, {"B", "2", 13}, {"B", "3", 18}, {"B", "4", 19}, {"B", "5", 25}, {"B", "6", 14},
			{"C", "1", 11}, {"C", "2", 15}, {"C", "3", 16}, {"C", "4", 21}, {"C", "5", 23},
			{"D", "4", 11}, {"D", "2", 12}, {"D", "3", 29}, {"D", "5", 16},
		} {
			a.pipeKey(r.key, r.ts, r.v)
		}
		out := slices.Clone(a.out)
		slices.SortStableFunc(out, func(x, y slidingOut) int {
			if x.key != y.key {
				return strings.Compare(x.key, y.key)
			}
			return cmp.Compare(x.start, y.start)
		})
		var got []string
		for _, o := range out {
			got = append(got, fmt.Sprintf("%s [%d,%d] %s@%d", o.key, o.start, o.start+10, o.v, o.ts))
		}
		want := []string{
			"A [0,10] 0+1@10", "A [5,15] 0+1+4@15", "A [10,20] 0+1+2@20", "A [10,20] 0+1+2+4@20",
			"A [11,21] 0+2@20", "A [11,21] 0+2+4@20", "A [12,22] 0+2+3@22", "A [12,22] 0+2+3+4@22",
			"A [16,26] 0+2+3@22", "A [21,31] 0+3@22",
			"B [2,12] 0+1@12", "B [3,13] 0+1+2@13", "B [4,14] 0+1+2+6@14", "B [8,18] 0+1+2+3@18",
			"B [8,18] 0+1+2+3+6@18", "B [9,19] 0+1+2+3+4@19", "B [9,19] 0+1+2+3+4+6@19",
			"B [13,23] 0+2@13", "B [13,23] 0+2+3@18", "B [13,23] 0+2+3+4@19", "B [13,23] 0+2+3+4+6@19",
			"B [14,24] 0+3@18", "B [14,24] 0+3+4@19", "B [14,24] 0+3+4+6@19", "B [15,25] 0+3+4+5@25",
			"B [19,29] 0+4@19", "B [19,29] 0+4+5@25", "B [20,30] 0+5@25",
			"C [1,11] 0+1@11", "C [5,15] 0+1+2@15", "C [6,16] 0+1+2+3@16", "C [11,21] 0+1+2+3+4@21",
			"C [12,22] 0+2@15", "C [12,22] 0+2+3@16", "C [12,22] 0+2+3+4@21", "C [13,23] 0+2+3+4+5@23",
			"C [16,26] 0+3@16", "C [16,26] 0+3+4@21", "C [16,26] 0+3+4+5@23", "C [17,27] 0+4@21",
			"C [17,27] 0+4+5@23", "C [22,32] 0+5@23",
			"D [1,11] 0+4@11", "D [2,12] 0+4+2@12", "D [6,16] 0+4+2+5@16", "D [12,22] 0+2@12",
			"D [12,22] 0+2+5@16", "D [13,23] 0+5@16", "D [19,29] 0+3@29",
		}
		if !slices.Equal(got, want) {
			t.Errorf("updates sorted by key and start:\n got %q\nwant %q", got, want)
		}
	})
}

// TestSlidingAllocs bounds the allocations of one record's Slide and Puts in
// steady state (cached windows, a reused steps slice). They are not 0 yet: the
// fetch's bounds and callbacks (Fetch, shared with hopping windows) and the
// record's new windows in the cache allocate.
func TestSlidingAllocs(t *testing.T) {
	a := newSlidingAgg(t, state.NewMemoryBackend(), 10, 1000)
	a.reduce = true
	for i := range 200 {
		a.pipeKey("k", int64(i), "x")
	}
	key := []byte("k")
	ts := int64(200)
	var steps []state.SlidingStep[string]
	allocs := testing.AllocsPerRun(200, func() {
		var err error
		steps, err = a.w.Slide(key, ts, 10, ts-1000, steps)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			if err := a.w.Put(key, st.Start, st.Agg, st.TS); err != nil {
				t.Fatal(err)
			}
		}
		ts++
	})
	if allocs > 5 {
		t.Errorf("Slide and Put: %v allocations per record, want at most 5", allocs)
	}
}

// BenchmarkSlide is the store side of a sliding-window count (Slide and the
// Puts of one record) over 1,000 keys, 100 records per second of event time,
// windows of 10 s, a flush and expiry every 1,000 records (as commits do), on
// the memory backend.
func BenchmarkSlide(b *testing.B) {
	w := state.NewWindowStore(state.NewMemoryBackend(), encodeInt, decodeInt, state.WindowSpec{Size: 10_000, Retention: 20_000}, 0)
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%d", i)
	}
	var steps []state.SlidingStep[int64]
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		ts := int64(i) * 10
		key := keys[i%len(keys)]
		var err error
		if steps, err = w.Slide(key, ts, 10_000, ts, steps); err != nil {
			b.Fatal(err)
		}
		for _, st := range steps {
			if err := w.Put(key, st.Start, st.Agg+1, max(st.TS, ts)); err != nil {
				b.Fatal(err)
			}
		}
		if i++; i%1000 == 0 {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := w.Expire(ts); err != nil {
				b.Fatal(err)
			}
		}
	}
}
