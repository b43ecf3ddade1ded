package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// joinInput is a batch of repartitioned orders (keyed by customer) and the
// customers they join, 3 in 4 of them known.
func joinInput(n int) (customers, orders []runtime.Record) {
	for i := range n {
		id := fmt.Sprintf("c%05d", i)
		v, _ := json.Marshal(Customer{Name: "name" + id, Region: "north"})
		customers = append(customers, runtime.Record{Key: []byte(id), Value: v, Timestamp: 1})
		c := fmt.Sprintf("c%05d", i*4/3)
		o, _ := json.Marshal(EnrichedOrder{Order: fmt.Sprint("o", i), Customer: c, Region: "unknown", AmountCents: int64(i)})
		orders = append(orders, runtime.Record{Key: []byte(c), Value: o, Timestamp: 1})
	}
	return customers, orders
}

// BenchmarkLeftJoin measures the generated stream-table left join (sub-topology
// 0, source 1: decode, look the customer up in the typed cache over a memory
// store, call enrich, encode) per batch of 1,000 orders.
func BenchmarkLeftJoin(b *testing.B) {
	customers, orders := joinInput(1000)
	out := &streamstest.CountingEmitter{}
	spec := CompiledTableJoin().SubTopologies[0]
	task := spec.NewTask(runtime.TaskContext{Out: out, Stores: []state.Backend{state.NewMemoryBackend()}, NullKeys: &runtime.LateCounter{}})
	if err := task.Process(0, customers); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := task.Process(1, orders); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(orders)), "ns/record")
}

// BenchmarkLeftJoinHandwritten is the baseline: the same work written by hand
// with the same generated serdes and a Go map for the table.
func BenchmarkLeftJoinHandwritten(b *testing.B) {
	customers, orders := joinInput(1000)
	out := &streamstest.CountingEmitter{}
	table := map[string]Customer{}
	for _, r := range customers {
		c, err := gofkaSerdeCustomer.Decode(r.Value)
		if err != nil {
			b.Fatal(err)
		}
		table[string(r.Key)] = c
	}
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range orders {
			r := &orders[i]
			o, err := gofkaSerdeEnrichedOrder.Decode(r.Value)
			if err != nil {
				b.Fatal(err)
			}
			var cp *Customer
			if c, ok := table[string(r.Key)]; ok {
				cp = &c
			}
			e := enrich(o, cp)
			if buf, err = gofkaSerdeEnrichedOrder.Encode(buf[:0], e); err != nil {
				b.Fatal(err)
			}
			out.Emit(0, r.Key, buf, r.Timestamp)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(orders)), "ns/record")
}
