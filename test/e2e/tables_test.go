package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tjCustomer and tjOrder are examples/tablejoin's Customer and Order;
// tjEnriched its EnrichedOrder.
type tjCustomer struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

type tjOrder struct {
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents"`
}

type tjEnriched struct {
	Order       string `json:"order"`
	Customer    string `json:"customer"`
	Name        string `json:"name"`
	Region      string `json:"region"`
	AmountCents int64  `json:"amount_cents"`
}

// tjModel is the brute force: the customers table and the count per region,
// kept in plain Go maps.
type tjModel struct {
	customers map[string]tjCustomer
	perRegion map[string]int64
}

func (m *tjModel) set(id string, c *tjCustomer) {
	if old, ok := m.customers[id]; ok {
		m.perRegion[old.Region]--
		delete(m.customers, id)
	}
	if c != nil {
		m.customers[id] = *c
		m.perRegion[c.Region]++
	}
}

func (m *tjModel) enrich(id string, o tjOrder) tjEnriched {
	e := tjEnriched{Order: id, Customer: o.Customer, Region: "unknown", AmountCents: o.AmountCents}
	if c, ok := m.customers[o.Customer]; ok {
		e.Name, e.Region = c.Name, c.Region
	}
	return e
}

// TestTableJoinExample runs examples/tablejoin through a broker (the embedded
// one, or the real one of the Kafka tier): customers are loaded, orders are
// enriched with them, customers move and leave, and later orders see the
// change. Per-region counts (a table aggregation whose subtractor runs when a
// customer moves or leaves, through a repartition topic) and every enriched order
// are compared with a brute force in plain Go. Each phase waits for the counts
// before producing orders, and for the orders' joins before changing customers,
// so the table each join reads is known: an order is repartitioned by customer
// before it joins, so without the wait a later customer change could overtake it.
func TestTableJoinExample(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	app, addr := startExample(ctx, t, buildExample(ctx, t, "tablejoin"), "customers", "orders", "enriched-orders", "customers-per-region")
	cl := client(t, addr)
	r := rand.New(rand.NewPCG(15, 1))
	regions := []string{"north", "south", "east", "west", "centre"}
	m := &tjModel{customers: map[string]tjCustomer{}, perRegion: map[string]int64{}}
	want := map[string]tjEnriched{}
	orderN := 0

	customer := func(id string, c *tjCustomer) *kgo.Record {
		m.set(id, c)
		rec := &kgo.Record{Topic: "customers", Key: []byte(id)}
		if c != nil {
			rec.Value, _ = json.Marshal(c)
		}
		return rec
	}
	orders := func(n int) {
		var recs []*kgo.Record
		for range n {
			id := fmt.Sprintf("o%04d", orderN)
			orderN++
			o := tjOrder{Customer: fmt.Sprintf("c%02d", r.IntN(60)), AmountCents: int64(r.IntN(100_000))}
			want[id] = m.enrich(id, o)
			v, _ := json.Marshal(o)
			recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(id), Value: v})
		}
		produceSync(ctx, t, cl, recs...)
	}

	// Phase 1: 50 customers, then 300 orders (customers c50-c59 are unknown).
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, customer(fmt.Sprintf("c%02d", i), &tjCustomer{Name: fmt.Sprintf("name%d", i), Region: regions[r.IntN(len(regions))]}))
	}
	produceSync(ctx, t, cl, recs...)
	readLatestCounts(ctx, t, addr, "customers-per-region", m.perRegion)
	orders(300)
	readEnriched(ctx, t, addr, 300) // so that phase 2's changes come after these joins

	// Phase 2: customers move, leave, and arrive; then 300 more orders.
	recs = nil
	for i := range 40 {
		id := fmt.Sprintf("c%02d", r.IntN(60))
		if i%4 == 0 {
			recs = append(recs, customer(id, nil))
		} else {
			recs = append(recs, customer(id, &tjCustomer{Name: fmt.Sprintf("moved%d", i), Region: regions[r.IntN(len(regions))]}))
		}
	}
	produceSync(ctx, t, cl, recs...)
	readLatestCounts(ctx, t, addr, "customers-per-region", m.perRegion)
	orders(300)

	got := readEnriched(ctx, t, addr, len(want))
	for id, w := range want {
		if got[id] != w {
			t.Errorf("order %s: enriched as %+v, want %+v", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d enriched orders, want %d", len(got), len(want))
	}
	stopClean(ctx, t, app)
}

// readEnriched reads enriched-orders from the start until n orders are there,
// and returns them by order id.
func readEnriched(ctx context.Context, t *testing.T, addr string, n int) map[string]tjEnriched {
	t.Helper()
	got := map[string]tjEnriched{}
	readUntil(ctx, t, addr, []string{"enriched-orders"}, func(recs []*kgo.Record) bool {
		clear(got)
		for _, rec := range recs {
			var e tjEnriched
			if err := json.Unmarshal(rec.Value, &e); err != nil {
				t.Fatalf("enriched-orders: %v", err)
			}
			if string(rec.Key) != e.Customer {
				t.Errorf("enriched order %+v keyed %q, want its customer", e, rec.Key)
			}
			got[e.Order] = e
		}
		return len(got) >= n
	})
	return got
}
