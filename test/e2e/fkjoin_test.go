package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fkOrder and fkDetails are examples/fkjoin's Order and OrderDetails
// (tjCustomer is its Customer).
type fkOrder struct {
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents"`
}

type fkDetails struct {
	Order       string `json:"order"`
	Customer    string `json:"customer"`
	Name        string `json:"name"`
	Region      string `json:"region"`
	AmountCents int64  `json:"amount_cents"`
}

// fkTables is the brute force: the two tables as produced, and their joins.
type fkTables struct {
	orders    map[string]fkOrder
	customers map[string]tjCustomer
}

// joins are the rows the left join (order-details) and the inner join
// (placed-orders) must hold over the tables.
func (m *fkTables) joins() (left, inner map[string]fkDetails) {
	left, inner = map[string]fkDetails{}, map[string]fkDetails{}
	for id, o := range m.orders {
		d := fkDetails{Order: id, Customer: o.Customer, AmountCents: o.AmountCents}
		if c, ok := m.customers[o.Customer]; ok {
			d.Name, d.Region = c.Name, c.Region
			inner[id] = d
		}
		left[id] = d
	}
	return left, inner
}

// TestFKJoinExample runs examples/fkjoin through a broker (the development
// broker, or the real one of the Kafka tier), on orders and customers topics
// of different partition counts (a foreign-key join needs no
// co-partitioning): customers are loaded, orders placed, then customers change
// and leave while orders move between customers and go. After each phase both
// outputs, read as tables (latest row per order, a tombstone deleting it), must
// equal the join of the tables computed in plain Go; in the first phase, where
// every order is new and its customer already loaded, each order is emitted
// exactly once by the left join and once by the inner join if its customer is
// known. The application is then stopped and started on an empty state
// directory: its stores, the subscription stores included, are restored from
// their changelogs, and a change of every customer must re-join exactly that
// customer's orders.
func TestFKJoinExample(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	bin := buildExample(ctx, t, "fkjoin")
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	adm := kadm.NewClient(cl)
	for topic, parts := range map[string]int32{"orders": 3, "customers": 2, "order-details": 3, "placed-orders": 3} {
		resp, err := adm.CreateTopics(ctx, parts, 1, nil, topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
	}
	run := func() *proc {
		p := startBinary(t, bin, "fkjoin", "--state-dir", t.TempDir(), "--commit-interval", "200ms", "--brokers", addr)
		if err := p.waitLog(ctx, "msg=consuming"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	app := run()

	r := rand.New(rand.NewPCG(213, 1))
	m := &fkTables{orders: map[string]fkOrder{}, customers: map[string]tjCustomer{}}
	customerRecs := 0
	customer := func(id string, c *tjCustomer) *kgo.Record {
		customerRecs++
		rec := &kgo.Record{Topic: "customers", Key: []byte(id)}
		if c != nil {
			m.customers[id] = *c
			rec.Value, _ = json.Marshal(c)
		} else {
			delete(m.customers, id)
		}
		return rec
	}
	order := func(id string, o *fkOrder) *kgo.Record {
		rec := &kgo.Record{Topic: "orders", Key: []byte(id)}
		if o != nil {
			m.orders[id] = *o
			rec.Value, _ = json.Marshal(o)
		} else {
			delete(m.orders, id)
		}
		return rec
	}
	// customersLoaded waits until the customers table has taken every customer
	// record (its changelog has them all), so that orders placed next find them.
	customersLoaded := func() {
		readUntil(ctx, t, addr, []string{"fk-join-customers-changelog"}, func(recs []*kgo.Record) bool { return len(recs) >= customerRecs })
	}

	// Phase 1: 40 customers; then 200 orders of 50 customers (c40-c49 unknown).
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, customer(fmt.Sprintf("c%02d", i), &tjCustomer{Name: fmt.Sprintf("name%d", i), Region: []string{"north", "south", "east"}[r.IntN(3)]}))
	}
	produceSync(ctx, t, cl, recs...)
	customersLoaded()
	recs = nil
	for i := range 200 {
		recs = append(recs, order(fmt.Sprintf("o%03d", i), &fkOrder{Customer: fmt.Sprintf("c%02d", r.IntN(50)), AmountCents: int64(r.IntN(100_000))}))
	}
	produceSync(ctx, t, cl, recs...)
	left, inner := m.joins()
	gotLeft, gotInner := fkConverge(ctx, t, addr, left, inner)
	if gotLeft != len(left) || gotInner != len(inner) {
		t.Errorf("phase 1: %d left-join and %d inner-join records, want one per order (%d) and one per order of a known customer (%d)",
			gotLeft, gotInner, len(left), len(inner))
	}

	// Phase 2: customers change and leave, orders move and go, interleaved.
	recs = nil
	for i := range 140 {
		c := fmt.Sprintf("c%02d", r.IntN(50))
		id := fmt.Sprintf("o%03d", r.IntN(200))
		switch x := r.IntN(10); {
		case x < 1:
			recs = append(recs, customer(c, nil))
		case x < 4:
			recs = append(recs, customer(c, &tjCustomer{Name: fmt.Sprintf("moved%d", i), Region: "west"}))
		case x < 6:
			recs = append(recs, order(id, nil))
		default:
			recs = append(recs, order(id, &fkOrder{Customer: fmt.Sprintf("c%02d", r.IntN(50)), AmountCents: int64(i)}))
		}
	}
	produceSync(ctx, t, cl, recs...)
	left, inner = m.joins()
	fkConverge(ctx, t, addr, left, inner)

	// Phase 3: restart on an empty state directory (stores restored from their
	// changelogs), then every customer changes: each order is joined again
	// through the restored subscriptions.
	stopClean(ctx, t, app)
	app = run()
	// The customers' tasks (sub-topology 1, with the subscription stores) restored their state from the changelogs.
	if !regexp.MustCompile(`task=1_\d state_from="full changelog replay" changelog_records_replayed=[1-9]`).MatchString(app.out.String()) {
		t.Errorf("after the restart, no task of sub-topology 1 replayed its changelogs:\n%s", app.out.String())
	}
	recs = nil
	for i := range 50 {
		recs = append(recs, customer(fmt.Sprintf("c%02d", i), &tjCustomer{Name: fmt.Sprintf("after-restore%d", i), Region: "centre"}))
	}
	produceSync(ctx, t, cl, recs...)
	left, inner = m.joins()
	fkConverge(ctx, t, addr, left, inner)
	stopClean(ctx, t, app)
}

// fkConverge reads both outputs as tables until they equal left and inner,
// and returns how many records each topic held.
func fkConverge(ctx context.Context, t *testing.T, addr string, left, inner map[string]fkDetails) (nLeft, nInner int) {
	t.Helper()
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var gotLeft, gotInner map[string]fkDetails
	defer func() {
		for _, c := range []struct {
			topic     string
			got, want map[string]fkDetails
		}{{"order-details", gotLeft, left}, {"placed-orders", gotInner, inner}} {
			for k, w := range c.want {
				if g, ok := c.got[k]; !ok || g != w {
					t.Errorf("%s %s: %+v (present %v), want %+v", c.topic, k, g, ok, w)
				}
			}
			for k, g := range c.got {
				if _, ok := c.want[k]; !ok {
					t.Errorf("%s %s: %+v, want no row", c.topic, k, g)
				}
			}
		}
	}()
	readUntil(ctx, t, addr, []string{"order-details", "placed-orders"}, func(recs []*kgo.Record) bool {
		gotLeft, gotInner = map[string]fkDetails{}, map[string]fkDetails{}
		nLeft, nInner = 0, 0
		for _, rec := range recs {
			tbl := gotLeft
			if rec.Topic == "placed-orders" {
				tbl = gotInner
				nInner++
			} else {
				nLeft++
			}
			if rec.Value == nil {
				delete(tbl, string(rec.Key))
				continue
			}
			var d fkDetails
			if err := json.Unmarshal(rec.Value, &d); err != nil {
				t.Fatalf("%s: %v", rec.Topic, err)
			}
			if d.Order != string(rec.Key) {
				t.Errorf("%s: %+v keyed %q, want its order id", rec.Topic, d, rec.Key)
			}
			tbl[string(rec.Key)] = d
		}
		return (maps.Equal(gotLeft, left) && maps.Equal(gotInner, inner)) || deadline.Err() != nil
	})
	return nLeft, nInner
}
