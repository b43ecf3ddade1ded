package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// TestJoinAndCountZeroAllocs checks that, once every key is cached, the
// generated code of the table steps allocates nothing per record: a batch of
// customer updates (table upserts, GroupBy's subtract and add records), a batch
// of repartitioned orders through the stream-table left join, and a batch of
// change records through the table Count.
func TestJoinAndCountZeroAllocs(t *testing.T) {
	p := CompiledTableJoin()
	out := &streamstest.CountingEmitter{}
	newTask := func(st int) runtime.Task {
		spec := p.SubTopologies[st]
		stores := make([]state.Backend, len(spec.Stores))
		for i := range stores {
			stores[i] = state.NewMemoryBackend()
		}
		return spec.NewTask(runtime.TaskContext{Out: out, Stores: stores, NullKeys: &runtime.LateCounter{}})
	}
	joinTask, countTask := newTask(0), newTask(2)
	var customers, orders, changes []runtime.Record
	for i := range 64 {
		id := fmt.Sprintf("c%02d", i)
		v, _ := json.Marshal(Customer{Name: "name" + id, Region: []string{"north", "south"}[i%2]})
		customers = append(customers, runtime.Record{Key: []byte(id), Value: v, Timestamp: 1})
		o, _ := json.Marshal(EnrichedOrder{Order: fmt.Sprint("o", i), Customer: fmt.Sprintf("c%02d", i%80), Region: "unknown", AmountCents: int64(i)})
		orders = append(orders, runtime.Record{Key: []byte(fmt.Sprintf("c%02d", i%80)), Value: o, Timestamp: 1})
		changes = append(changes, runtime.Record{Key: []byte([]string{"north", "south"}[i%2]), Value: append([]byte{byte(i % 2)}, "x"...), Timestamp: 1})
	}
	for _, c := range []struct {
		name   string
		task   runtime.Task
		source int
		batch  []runtime.Record
	}{
		{"customers into the table and GroupBy", joinTask, 0, customers},
		{"orders through the left join", joinTask, 1, orders},
		{"changes into the table Count", countTask, 0, changes},
	} {
		var err error
		run := func() {
			if e := c.task.Process(c.source, c.batch); e != nil {
				err = e
			}
		}
		run() // every key cached
		if allocs := testing.AllocsPerRun(50, run); allocs != 0 {
			t.Errorf("%s: a batch of %d records allocates %v times, want 0", c.name, len(c.batch), allocs)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	if out.N == 0 {
		t.Fatal("nothing was emitted")
	}
}
