package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// event is one input record of the brute-force check: a customer upsert or
// delete, a customer record without a key, or an order.
type event struct {
	customer string
	row      *Customer // nil: a delete
	nullKey  bool
	order    string
	o        Order
}

// randomEvents makes customers move between regions and leave, with orders of
// known and unknown customers in between.
func randomEvents(r *rand.Rand, n int) []event {
	regions := []string{"north", "south", "east", "west"}
	var evs []event
	for i := range n {
		c := fmt.Sprintf("c%d", r.IntN(12))
		switch x := r.IntN(10); {
		case x < 4:
			evs = append(evs, event{customer: c, row: &Customer{Name: "name-" + c, Region: regions[r.IntN(len(regions))]}})
		case x < 5:
			evs = append(evs, event{customer: c}) // a delete
		case x < 6:
			evs = append(evs, event{nullKey: true, row: &Customer{Name: "nobody", Region: "north"}})
		default:
			evs = append(evs, event{order: fmt.Sprintf("o%d", i), o: Order{Customer: c, AmountCents: int64(r.IntN(10_000))}})
		}
	}
	return evs
}

type regionCount struct {
	Region string
	Count  int64
}

// bruteForce computes, in plain Go, the enriched orders, the stream of
// per-region counts and the final counts the topology must give.
func bruteForce(evs []event) (orders []EnrichedOrder, counts []regionCount, final map[string]int64, nullKeys int64) {
	table := map[string]Customer{}
	final = map[string]int64{}
	for _, ev := range evs {
		switch {
		case ev.nullKey:
			nullKeys++
		case ev.order != "":
			e := EnrichedOrder{Order: ev.order, Customer: ev.o.Customer, Region: "unknown", AmountCents: ev.o.AmountCents}
			if c, ok := table[ev.o.Customer]; ok {
				e.Name, e.Region = c.Name, c.Region
			}
			orders = append(orders, e)
		default:
			old, ok := table[ev.customer]
			if ok && ev.row != nil && old.Region == ev.row.Region {
				// Stays in its region: one update, the count unchanged (KIP-904).
				table[ev.customer] = *ev.row
				counts = append(counts, regionCount{old.Region, final[old.Region]})
				continue
			}
			if ok {
				final[old.Region]--
				counts = append(counts, regionCount{old.Region, final[old.Region]})
				delete(table, ev.customer)
			}
			if ev.row != nil {
				table[ev.customer] = *ev.row
				final[ev.row.Region]++
				counts = append(counts, regionCount{ev.row.Region, final[ev.row.Region]})
			}
		}
	}
	return orders, counts, final, nullKeys
}

// TestAgainstBruteForce pipes random customer changes and orders through the
// in-process driver and compares every output with bruteForce's.
func TestAgainstBruteForce(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			evs := randomEvents(rand.New(rand.NewPCG(seed, 42)), 400)
			d := streamstest.NewDriver(CompiledTableJoin(), streamstest.WithPartitions(3))
			defer d.Close()
			orders := streamstest.Input(d, "orders", streams.String(), streams.JSON[Order]())
			for _, ev := range evs {
				var err error
				switch {
				case ev.nullKey:
					v, _ := json.Marshal(ev.row)
					err = d.PipeRaw("customers", nil, v)
				case ev.order != "":
					err = orders.Pipe(ev.order, ev.o)
				case ev.row == nil:
					err = d.PipeRaw("customers", []byte(ev.customer), nil)
				default:
					v, _ := json.Marshal(ev.row)
					err = d.PipeRaw("customers", []byte(ev.customer), v)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			wantOrders, wantCounts, wantFinal, wantNull := bruteForce(evs)

			gotOrders, err := streamstest.Output(d, "enriched-orders", streams.String(), streams.JSON[EnrichedOrder]()).ReadKeyValues()
			if err != nil {
				t.Fatal(err)
			}
			var got []EnrichedOrder
			for _, kv := range gotOrders {
				if kv.Key != kv.Value.Customer {
					t.Errorf("enriched order %+v is keyed %q, want its customer", kv.Value, kv.Key)
				}
				got = append(got, kv.Value)
			}
			if !slices.Equal(got, wantOrders) {
				t.Errorf("enriched orders differ:\n got %v\nwant %v", got, wantOrders)
			}

			gotCounts, err := streamstest.Output(d, "customers-per-region", streams.String(), streams.Int64()).ReadKeyValues()
			if err != nil {
				t.Fatal(err)
			}
			var gc []regionCount
			for _, kv := range gotCounts {
				gc = append(gc, regionCount{kv.Key, kv.Value})
			}
			if !slices.Equal(gc, wantCounts) {
				t.Errorf("count updates differ:\n got %v\nwant %v", gc, wantCounts)
			}
			store, err := streamstest.Store(d, "customers-per-region", streams.String(), streams.Int64()).All()
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range store {
				if wantFinal[kv.Key] != kv.Value {
					t.Errorf("store: region %s holds %d, want %d", kv.Key, kv.Value, wantFinal[kv.Key])
				}
			}
			if len(store) != len(wantFinal) {
				t.Errorf("store holds %d regions, want %d", len(store), len(wantFinal))
			}
			if n := d.NullKeyRecords(); n != wantNull || wantNull == 0 {
				t.Errorf("null-key records dropped: %d, want %d (and more than none)", n, wantNull)
			}
		})
	}
}
