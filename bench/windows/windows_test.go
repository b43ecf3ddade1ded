package windows

import (
	"testing"
	"time"

	"github.com/gofka/streams/state"
)

// bruteForce counts the input per key and window the slow, obvious way, from
// the definition: a record at ts counts in every window [start, start+size)
// with start a multiple of advance that contains it, unless stream time (the
// largest timestamp so far, this record's included) has reached start + size +
// grace. It returns the final count per (key, start) and how many updates (one
// per counted pair) a windowed count emits.
func bruteForce(recs []recordView, size, advance, grace int64) (map[[2]any]uint64, int) {
	counts := map[[2]any]uint64{}
	updates := 0
	streamTime := int64(-1)
	for _, r := range recs {
		streamTime = max(streamTime, r.ts)
		for start := r.ts - r.ts%advance; start > r.ts-size; start -= advance {
			if start < 0 || start+size+grace <= streamTime {
				continue
			}
			counts[[2]any{r.key, start}]++
			updates++
		}
	}
	return counts, updates
}

type recordView struct {
	key string
	ts  int64
}

// TestHandwrittenMatchesBruteForce checks the hand-written loop (and the
// shared windowing rules) against bruteForce, tumbling and hopping, over input
// with out-of-order records; some windows also get late records, by a grace
// shorter than the disorder.
func TestHandwrittenMatchesBruteForce(t *testing.T) {
	recs := Generate(200_000, 500, InputSeed)
	var views []recordView
	for _, r := range recs {
		views = append(views, recordView{string(r.Key), r.Timestamp})
	}
	for _, tc := range []struct {
		name                 string
		size, advance, grace time.Duration
	}{
		{"tumbling", TumblingSize, TumblingSize, Grace},
		{"hopping", HoppingSize, HoppingStep, Grace},
		{"hopping, short grace", HoppingSize, HoppingStep, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, advance, grace := tc.size.Milliseconds(), tc.advance.Milliseconds(), tc.grace.Milliseconds()
			want, updates := bruteForce(views, size, advance, grace)
			store := state.NewMemoryBackend()
			h := NewHandwritten(size, advance, grace, store)
			if err := h.Run(recs); err != nil {
				t.Fatal(err)
			}
			if h.Outputs() != updates {
				t.Errorf("%d updates, want %d", h.Outputs(), updates)
			}
			if tc.grace < Grace && h.Late() == 0 {
				t.Errorf("no late record with a grace shorter than the disorder")
			}
			// The map holds the windows not yet expired; each must have its brute-force count.
			for key, w := range h.windows {
				k := [2]any{key[:len(key)-8], w.start}
				if want[k] != w.n {
					t.Fatalf("window %q@%d: %d, want %d", key[:len(key)-8], w.start, w.n, want[k])
				}
			}
			if len(h.windows) == 0 {
				t.Fatal("no window left open at the end")
			}
		})
	}
}
