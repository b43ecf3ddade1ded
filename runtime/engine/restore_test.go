package engine

import (
	"testing"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// TestFits: state is usable when each store's changelog offset lies within its
// changelog; otherwise the reason names the store, and from is left alone.
func TestFits(t *testing.T) {
	p := countProgram()
	e := &Engine{prog: p, topics: infos(p)}
	id := coordinator.TaskID{SubTopology: 1, Partition: 2}
	cl := topicPartition{"cl", 2}
	bounds := map[topicPartition]bounds{cl: {start: 5, end: 40}}
	at := func(o int64, found bool) func(runtime.StoreSpec, topicPartition) (int64, bool, error) {
		return func(runtime.StoreSpec, topicPartition) (int64, bool, error) { return o, found, nil }
	}
	for _, c := range []struct {
		offset int64
		found  bool
		why    string
	}{
		{5, true, ""},
		{40, true, ""},
		{41, true, "store counts at changelog offset 41 is outside the changelog [5, 40]"},
		{4, true, "store counts at changelog offset 4 is outside the changelog [5, 40]"},
		{0, false, "no changelog offset recorded for store counts"},
	} {
		from := map[topicPartition]int64{}
		why, err := e.fits(id, bounds, from, at(c.offset, c.found))
		if err != nil || why != c.why {
			t.Errorf("offset %d (found %v): %q, %v; want %q", c.offset, c.found, why, err, c.why)
		}
		if c.why == "" && from[cl] != c.offset {
			t.Errorf("offset %d: replay from %v, want %d", c.offset, from, c.offset)
		}
		if c.why != "" && len(from) != 0 {
			t.Errorf("offset %d: unusable state filled from: %v", c.offset, from)
		}
	}
	if why, _ := e.fits(coordinator.TaskID{SubTopology: 0, Partition: 2}, bounds, map[topicPartition]int64{}, at(99, true)); why != "" {
		t.Errorf("a task without stores: %q, want usable", why)
	}
}
