package main

import (
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// The join's cost against its limit: BenchmarkGlobalJoin runs the generated
// task (decode, both global lookups through the read cache, joiners, filter,
// encode) over a batch of orders; BenchmarkGlobalJoinHandWritten does the same
// work in a plain loop over a Go map with the same serdes. Their ratio is what
// the generated glue and the replica's shared global store cost.
//
//	go test ./examples/orderenrich -run XXX -bench GlobalJoin -benchmem

const benchProducts, benchOrders = 300, 1000

func benchBatch() ([]runtime.Record, map[string]Product) {
	products := map[string]Product{}
	for i := range benchProducts {
		id := fmt.Sprintf("p%d", i)
		products[id] = Product{ID: id, Name: fmt.Sprintf("item-%d", i), PriceCents: int64(100 + i)}
	}
	batch := make([]runtime.Record, benchOrders)
	for i := range batch {
		o := Order{ID: fmt.Sprintf("o%d", i), ProductID: fmt.Sprintf("p%d", i%(benchProducts+30)), Quantity: int64(1 + i%9)}
		v, _ := gofkaSerdeOrder.Encode(nil, o)
		batch[i] = runtime.Record{Topic: "orders", Key: []byte(o.ID), Value: v, Timestamp: int64(i)}
	}
	return batch, products
}

func BenchmarkGlobalJoin(b *testing.B) {
	batch, products := benchBatch()
	shared := state.NewShared(state.NewMemoryBackend())
	for id, p := range products {
		v, _ := gofkaSerdeProduct.Encode(nil, p)
		if err := shared.Put([]byte(id), v); err != nil {
			b.Fatal(err)
		}
	}
	task := CompiledOrderEnrich().SubTopologies[0].NewTask(runtime.TaskContext{
		Out: &streamstest.CountingEmitter{}, StreamTime: runtime.NoTimestamp, Globals: []state.Backend{shared.View()},
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := task.Process(0, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/order")
}

func BenchmarkGlobalJoinHandWritten(b *testing.B) {
	batch, products := benchBatch()
	out := &streamstest.CountingEmitter{}
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			r := &batch[i]
			o, err := gofkaSerdeOrder.Decode(r.Value)
			if err != nil {
				b.Fatal(err)
			}
			p, ok := products[productID(string(r.Key), o)]
			if ok {
				buf, _ = gofkaSerdeEnrichedOrder.Encode(buf[:0], enrich(o, p))
				out.Emit(1, r.Key, buf, r.Timestamp)
				continue
			}
			buf, _ = gofkaSerdeEnrichedOrder.Encode(buf[:0], missing(o, nil))
			out.Emit(2, r.Key, buf, r.Timestamp)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/order")
}
