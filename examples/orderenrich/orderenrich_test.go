package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// event is a product upsert (Product set), a product delete (Delete), or an order.
type event struct {
	Product *Product
	Delete  string
	Order   *Order
}

// randomEvents interleaves product changes and orders; orders name products
// that may exist, may have been deleted, or never existed.
func randomEvents(rng *rand.Rand, n int) []event {
	var out []event
	for i := range n {
		id := fmt.Sprintf("p%d", rng.IntN(20))
		switch r := rng.IntN(10); {
		case r < 3:
			out = append(out, event{Product: &Product{ID: id, Name: fmt.Sprintf("item-%d", rng.IntN(1000)), PriceCents: rng.Int64N(10_000)}})
		case r == 3:
			out = append(out, event{Delete: id})
		default:
			out = append(out, event{Order: &Order{ID: fmt.Sprintf("o%d", i), ProductID: id, Quantity: 1 + rng.Int64N(9)}})
		}
	}
	return out
}

// bruteForce computes the outputs in plain Go: a map of the products so far,
// looked up by each order.
func bruteForce(events []event) (enriched, without []streams.KeyValue[string, EnrichedOrder]) {
	table := map[string]Product{}
	for _, e := range events {
		switch {
		case e.Product != nil:
			table[e.Product.ID] = *e.Product
		case e.Delete != "":
			delete(table, e.Delete)
		default:
			o := e.Order
			p, ok := table[o.ProductID]
			if !ok {
				without = append(without, streams.KV(o.ID, EnrichedOrder{OrderID: o.ID, ProductID: o.ProductID, Quantity: o.Quantity}))
				continue
			}
			enriched = append(enriched, streams.KV(o.ID, EnrichedOrder{OrderID: o.ID, ProductID: o.ProductID, ProductName: p.Name,
				Quantity: o.Quantity, TotalCents: o.Quantity * p.PriceCents, Known: true}))
		}
	}
	return enriched, without
}

func byKey(kvs []streams.KeyValue[string, EnrichedOrder]) []streams.KeyValue[string, EnrichedOrder] {
	slices.SortFunc(kvs, func(a, b streams.KeyValue[string, EnrichedOrder]) int { return cmp.Compare(a.Key, b.Key) })
	return kvs
}

// TestOrderEnrichMatchesBruteForce pipes random product changes and orders
// through the generated topology on 3 partitions and compares both outputs
// with the brute-force join. Every order id is distinct, so the outputs are
// compared as sets of records.
func TestOrderEnrichMatchesBruteForce(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			events := randomEvents(rand.New(rand.NewPCG(seed, 15)), 2000)
			d := streamstest.NewDriver(CompiledOrderEnrich(), streamstest.WithPartitions(3))
			defer d.Close()
			products := streamstest.Input(d, "products", streams.String(), streams.JSON[Product]())
			orders := streamstest.Input(d, "orders", streams.String(), streams.JSON[Order]())
			for _, e := range events {
				var err error
				switch {
				case e.Product != nil:
					err = products.Pipe(e.Product.ID, *e.Product)
				case e.Delete != "":
					err = d.PipeRaw("products", []byte(e.Delete), nil)
				default:
					err = orders.Pipe(e.Order.ID, *e.Order)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			wantEnriched, wantWithout := bruteForce(events)
			for _, c := range []struct {
				topic string
				want  []streams.KeyValue[string, EnrichedOrder]
			}{{"enriched-orders", wantEnriched}, {"orders-without-product", wantWithout}} {
				got, err := streamstest.Output(d, c.topic, streams.String(), streams.JSON[EnrichedOrder]()).ReadKeyValues()
				if err != nil {
					t.Fatal(err)
				}
				if len(c.want) == 0 {
					t.Fatalf("%s: the brute force expects nothing: a useless case", c.topic)
				}
				if g, w := byKey(got), byKey(c.want); !slices.Equal(g, w) {
					t.Errorf("%s: %d records, want %d; first difference at %v", c.topic, len(g), len(w), firstDiff(g, w))
				}
			}
		})
	}
}

func firstDiff(a, b []streams.KeyValue[string, EnrichedOrder]) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%d: got %+v, want %+v", i, a[i], b[i])
		}
	}
	return "the end of the shorter"
}
