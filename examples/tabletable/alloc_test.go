package main

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// TestJoinsZeroAllocs checks that, once every key is cached, the generated
// code of the three joins allocates nothing per record: batches of customer
// and account updates, each row written with its timestamp and joined with
// the other side's row and timestamp, and a batch of deletes.
func TestJoinsZeroAllocs(t *testing.T) {
	p := CompiledTableTable()
	out := &streamstest.CountingEmitter{}
	spec := p.SubTopologies[0]
	stores := make([]state.Backend, len(spec.Stores))
	for i := range stores {
		stores[i] = state.NewMemoryBackend()
	}
	task := spec.NewTask(runtime.TaskContext{Out: out, Stores: stores, NullKeys: &runtime.LateCounter{}})
	var customers, accounts, deletes []runtime.Record
	for i := range 64 {
		id := fmt.Sprintf("c%02d", i)
		c, _ := json.Marshal(Customer{Name: "name" + id, Region: "north"})
		a, _ := json.Marshal(Account{BalanceCents: int64(i), Status: "open"})
		customers = append(customers, runtime.Record{Key: []byte(id), Value: c, Timestamp: int64(100 - i)})
		accounts = append(accounts, runtime.Record{Key: []byte(fmt.Sprintf("c%02d", i%80)), Value: a, Timestamp: int64(i)})
		deletes = append(deletes, runtime.Record{Key: []byte(fmt.Sprintf("c%02d", i+32)), Timestamp: 7})
	}
	source := map[string]int{}
	for i, src := range spec.Sources {
		source[p.Topics[src.Topics[0]].Name] = i
	}
	if len(source) != 2 {
		t.Fatalf("sources %v, want customers and accounts", source)
	}
	for _, c := range []struct {
		name  string
		topic string
		batch []runtime.Record
	}{
		{"customers", "customers", customers},
		{"accounts", "accounts", accounts},
		{"deletes of customers", "customers", deletes},
	} {
		var err error
		run := func() {
			if e := task.Process(source[c.topic], c.batch); e != nil {
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

// BenchmarkJoins runs batches of customer and account updates through the
// three joins, every key cached: the cost per record of a change joined
// with the other side's row.
func BenchmarkJoins(b *testing.B) {
	p := CompiledTableTable()
	spec := p.SubTopologies[0]
	stores := make([]state.Backend, len(spec.Stores))
	for i := range stores {
		stores[i] = state.NewMemoryBackend()
	}
	task := spec.NewTask(runtime.TaskContext{Out: &streamstest.CountingEmitter{}, Stores: stores, NullKeys: &runtime.LateCounter{}})
	var customers, accounts []runtime.Record
	for i := range 1000 {
		id := fmt.Sprintf("c%03d", i)
		c, _ := json.Marshal(Customer{Name: "name" + id, Region: "north"})
		a, _ := json.Marshal(Account{BalanceCents: int64(i), Status: "open"})
		customers = append(customers, runtime.Record{Key: []byte(id), Value: c, Timestamp: int64(1000 - i)})
		accounts = append(accounts, runtime.Record{Key: []byte(id), Value: a, Timestamp: int64(i)})
	}
	run := func() {
		for src, batch := range [][]runtime.Record{customers, accounts} {
			if err := task.Process(src, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	run()
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		run()
	}
	records := float64(b.N * 2 * len(customers))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
	b.ReportMetric(float64(cpuTime()-cpu)/records, "cpu-ns/record") // steadier than wall time on a busy machine
}

// cpuTime is the CPU time the process has used, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
