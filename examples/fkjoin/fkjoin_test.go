package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// event is one input record: an order or customer upsert, or a delete (nil row).
type event struct {
	order, customer string
	o               *Order
	c               *Customer
}

// randomEvents makes orders appear, move between customers (or to none: a
// null foreign key) and go, and customers appear, change and go, in a random
// mix.
func randomEvents(r *rand.Rand, n int) []event {
	var evs []event
	for range n {
		o, c := fmt.Sprintf("o%02d", r.IntN(30)), fmt.Sprintf("c%d", r.IntN(8))
		switch x := r.IntN(20); {
		case x < 9:
			if r.IntN(6) == 0 {
				c = "" // no customer: a null foreign key
			}
			evs = append(evs, event{order: o, o: &Order{Customer: c, AmountCents: int64(r.IntN(1000))}})
		case x < 11:
			evs = append(evs, event{order: o})
		case x < 18:
			evs = append(evs, event{customer: c, c: &Customer{Name: fmt.Sprintf("name-%s-%d", c, r.IntN(100)), Region: []string{"north", "south"}[r.IntN(2)]}})
		default:
			evs = append(evs, event{customer: c})
		}
	}
	return evs
}

// change is one output record of a join: a row, or a delete (nil).
type change = *OrderDetails

// model is Kafka Streams' foreign-key join semantics written out in plain Go
// over the two tables, record by record (KTableKTableForeignKeyJoinIntegrationTest
// shows each rule): what each input record makes the left and the inner join emit, per order.
type model struct {
	orders    map[string]Order
	customers map[string]Customer
	left      map[string][]change
	inner     map[string][]change
}

func newModel() *model {
	return &model{orders: map[string]Order{}, customers: map[string]Customer{}, left: map[string][]change{}, inner: map[string][]change{}}
}

func (m *model) joined(id string, o Order) (left, inner change) {
	d := OrderDetails{Order: id, Customer: o.Customer, AmountCents: o.AmountCents}
	c, ok := m.customers[o.Customer]
	if !ok {
		return &d, nil
	}
	d.Name, d.Region = c.Name, c.Region
	return &d, &d
}

func (m *model) apply(ev event) {
	switch {
	case ev.order != "" && ev.o != nil:
		old, existed := m.orders[ev.order]
		m.orders[ev.order] = *ev.o
		l, in := m.joined(ev.order, *ev.o)
		// The left join emits every row, with or without a customer (Kafka
		// Streams 3.7+, KIP-962: a null foreign key too).
		m.left[ev.order] = append(m.left[ev.order], l)
		// The inner join: a new order of an unknown customer emits nothing,
		// nor (Kafka Streams 3.9) a changed one that kept its unknown
		// customer; one that had a customer and moved to an unknown one, or
		// to none (a null foreign key), emits a delete. An order without a
		// customer that gets one is new to it.
		hadCustomer := existed && old.Customer != ""
		if in != nil || (hadCustomer && old.Customer != ev.o.Customer) {
			m.inner[ev.order] = append(m.inner[ev.order], in)
		}
	case ev.order != "":
		if old, existed := m.orders[ev.order]; existed {
			delete(m.orders, ev.order)
			m.left[ev.order] = append(m.left[ev.order], nil)
			if old.Customer != "" { // an order without a customer was never subscribed: nothing to delete
				m.inner[ev.order] = append(m.inner[ev.order], nil)
			}
		}
	default:
		_, existed := m.customers[ev.customer]
		if ev.c != nil {
			m.customers[ev.customer] = *ev.c
		} else if existed {
			delete(m.customers, ev.customer)
		} else {
			return // deleting an unknown customer changes nothing
		}
		for _, id := range slices.Sorted(maps.Keys(m.orders)) {
			if o := m.orders[id]; o.Customer == ev.customer {
				l, in := m.joined(id, o)
				m.left[id] = append(m.left[id], l)
				m.inner[id] = append(m.inner[id], in)
			}
		}
	}
}

// final is the join over the final tables: the rows each output must end with.
func (m *model) final() (left, inner map[string]OrderDetails) {
	left, inner = map[string]OrderDetails{}, map[string]OrderDetails{}
	for id, o := range m.orders {
		l, in := m.joined(id, o)
		left[id] = *l
		if in != nil {
			inner[id] = *in
		}
	}
	return left, inner
}

// perKey groups output records by key, in order; nil values are deletes.
func perKey(t *testing.T, out *streamstest.OutputTopic[string, OrderDetails]) map[string][]change {
	t.Helper()
	recs, err := out.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]change{}
	for _, r := range recs {
		var c change
		if !r.NilValue {
			v := r.Value
			c = &v
		}
		got[r.Key] = append(got[r.Key], c)
	}
	return got
}

func latest(seqs map[string][]change) map[string]OrderDetails {
	out := map[string]OrderDetails{}
	for k, s := range seqs {
		if last := s[len(s)-1]; last != nil {
			out[k] = *last
		}
	}
	return out
}

func show(s []change) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFKJoinMatchesModel pipes random changes of both tables through the
// generated topology, on 3 partitions, and compares every order's sequence of
// results in both joins with the model, and the final results with the join
// of the final tables.
func TestFKJoinMatchesModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d := streamstest.NewDriver(CompiledFKJoin(), streamstest.WithPartitions(3))
			defer d.Close()
			orders := streamstest.Input(d, "orders", streams.String(), streams.JSON[Order]())
			customers := streamstest.Input(d, "customers", streams.String(), streams.JSON[Customer]())
			leftOut := streamstest.Output(d, "order-details", streams.String(), streams.JSON[OrderDetails]())
			innerOut := streamstest.Output(d, "placed-orders", streams.String(), streams.JSON[OrderDetails]())
			m := newModel()
			for _, ev := range randomEvents(rand.New(rand.NewPCG(seed, 15)), 600) {
				var err error
				switch {
				case ev.order != "" && ev.o != nil:
					err = orders.Pipe(ev.order, *ev.o)
				case ev.order != "":
					err = d.PipeRaw("orders", []byte(ev.order), nil)
				case ev.c != nil:
					err = customers.Pipe(ev.customer, *ev.c)
				default:
					err = d.PipeRaw("customers", []byte(ev.customer), nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				m.apply(ev)
			}
			gotLeft, gotInner := perKey(t, leftOut), perKey(t, innerOut)
			for _, c := range []struct {
				name      string
				got, want map[string][]change
			}{{"order-details", gotLeft, m.left}, {"placed-orders", gotInner, m.inner}} {
				for _, k := range slices.Sorted(maps.Keys(c.want)) {
					if show(c.got[k]) != show(c.want[k]) {
						t.Errorf("%s %s:\n got %s\nwant %s", c.name, k, show(c.got[k]), show(c.want[k]))
					}
				}
				for k := range c.got {
					if _, ok := c.want[k]; !ok {
						t.Errorf("%s %s: unexpected %s", c.name, k, show(c.got[k]))
					}
				}
			}
			// Each join's subscription store holds one subscription per order,
			// under its current customer: the store key ends with the order id.
			for _, store := range []string{"order-details-subscription-store", "placed-orders-subscription-store"} {
				subs, err := streamstest.RawStore(d, store).All()
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				for _, kv := range subs {
					got = append(got, string(kv.Key[4:]))
				}
				for id, o := range m.orders {
					if o.Customer != "" { // a null foreign key subscribes to nothing
						want = append(want, o.Customer+id)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s holds %q, want %q (customer and order of every order)", store, got, want)
				}
			}
			wantLeft, wantInner := m.final()
			if got := latest(gotLeft); !maps.Equal(got, wantLeft) {
				t.Errorf("order-details ends with %v, want %v", got, wantLeft)
			}
			if got := latest(gotInner); !maps.Equal(got, wantInner) {
				t.Errorf("placed-orders ends with %v, want %v", got, wantInner)
			}
		})
	}
}

// TestFKJoinDropsStaleResponse answers an order with a response carrying the
// hash of an older row of the order, as a response overtaken by the order's
// next change would: it is dropped. The same response with the hash of the row
// the order holds now is joined.
func TestFKJoinDropsStaleResponse(t *testing.T) {
	d := streamstest.NewDriver(CompiledFKJoin())
	defer d.Close()
	orders := streamstest.Input(d, "orders", streams.String(), streams.JSON[Order]())
	customers := streamstest.Input(d, "customers", streams.String(), streams.JSON[Customer]())
	leftOut := streamstest.Output(d, "order-details", streams.String(), streams.JSON[OrderDetails]())
	if err := customers.Pipe("c1", Customer{Name: "Ann", Region: "north"}); err != nil {
		t.Fatal(err)
	}
	older, current := Order{Customer: "c1", AmountCents: 5}, Order{Customer: "c1", AmountCents: 7}
	for _, o := range []Order{older, current} {
		if err := orders.Pipe("o1", o); err != nil {
			t.Fatal(err)
		}
	}
	if got := perKey(t, leftOut)["o1"]; len(got) != 2 || got[1].AmountCents != 7 || got[1].Name != "Ann" {
		t.Fatalf("order-details o1 = %s, want the two rows joined with Ann", show(got))
	}
	// The customer's row as the right task sends it, and the responses.
	row, _ := json.Marshal(Customer{Name: "Bob", Region: "south"})
	response := func(o Order) []byte {
		v, _ := json.Marshal(o)
		return runtime.AppendFKResponse(nil, runtime.FKHash(nil, v), true, row)
	}
	topic := d.AppID() + "-order-details-response-repartition"
	if err := d.PipeRaw(topic, []byte("o1"), response(older)); err != nil {
		t.Fatal(err)
	}
	if got := perKey(t, leftOut)["o1"]; len(got) != 0 {
		t.Fatalf("a stale response emitted %s, want nothing", show(got))
	}
	if err := d.PipeRaw(topic, []byte("o1"), response(current)); err != nil {
		t.Fatal(err)
	}
	want := OrderDetails{Order: "o1", Customer: "c1", Name: "Bob", Region: "south", AmountCents: 7}
	if got := perKey(t, leftOut)["o1"]; len(got) != 1 || got[0] == nil || *got[0] != want {
		t.Fatalf("a current response emitted %s, want %+v", show(got), want)
	}
}
