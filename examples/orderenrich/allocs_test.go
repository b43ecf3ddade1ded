package main

import (
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// TestJoinAllocatesNothingPerRecord runs the generated task over a batch of
// orders of a known and an unknown product: once the global table's read
// cache holds the product, neither join allocates (decode, lookup, joiners,
// encode), as DESIGN.md asks of generated code.
func TestJoinAllocatesNothingPerRecord(t *testing.T) {
	shared := state.NewShared(state.NewMemoryBackend())
	if err := shared.Put([]byte("p1"), []byte(`{"id":"p1","name":"pen","price_cents":150}`)); err != nil {
		t.Fatal(err)
	}
	out := &streamstest.CountingEmitter{}
	task := CompiledOrderEnrich().SubTopologies[0].NewTask(runtime.TaskContext{
		Out: out, StreamTime: runtime.NoTimestamp, Globals: []state.Backend{shared.View()},
	})
	batch := []runtime.Record{
		{Topic: "orders", Key: []byte("o1"), Value: []byte(`{"id":"o1","product_id":"p1","quantity":3}`), Timestamp: 1},
		{Topic: "orders", Key: []byte("o2"), Value: []byte(`{"id":"o2","product_id":"p9","quantity":1}`), Timestamp: 2},
	}
	var err error
	allocs := testing.AllocsPerRun(200, func() { err = task.Process(0, batch) })
	if err != nil {
		t.Fatal(err)
	}
	// o1: enriched by both joins, filtered out of orders-without-product; o2: one record.
	if out.N != 2*201 {
		t.Fatalf("%d records emitted over 201 runs, want 2 per run", out.N)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per batch of 2 orders, want 0", allocs)
	}
}
