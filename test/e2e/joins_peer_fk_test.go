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

// The foreign-key joins of TestJoinsBesideKafkaStreams (joins_peer_test.go).

const (
	fkLeft, fkInner                     = "order-details", "placed-orders"
	fkSentinelOrder, fkSentinelCustomer = "o-sentinel", "c-sentinel"
)

// fkJoinBesideKStreams: examples/fkjoin (orders left- and inner-joined with
// their customers by foreign key) and FKJoin. A sentinel order of a sentinel
// customer ends each phase: a phase of orders by changing the sentinel
// order's amount, a phase of customers by renaming the sentinel customer; the
// phase is processed when both joins have written the sentinel order's new
// row. The first phase is the sentinel order alone (its customer unknown), so
// that the next phase, the first customers, has an order whose join shows it.
// Both outputs must be the same sequence per order from both engines, and end
// as the brute force's tables (fkTables.joins).
func fkJoinBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	j := startJoinPeers(ctx, t, peer, bin, "FKJoin", []string{"orders", "customers"}, []string{fkLeft, fkInner},
		"--out-details", "ks-"+fkLeft, "--out-placed", "ks-"+fkInner)
	p := &fkPhases{j: j, in: &joinInput{base: time.Now().Add(-24 * time.Hour).Truncate(time.Second)},
		m: &fkTables{orders: map[string]fkOrder{}, customers: map[string]tjCustomer{}}}
	p.run(rand.New(rand.NewPCG(6, 213)))

	wantLeft, wantInner := p.m.joins()
	for _, c := range []struct {
		what, topic string
		want        map[string]fkDetails
	}{{"left join", fkLeft, wantLeft}, {"inner join", fkInner, wantInner}} {
		gofka, ks := j.read(c.topic), j.read("ks-"+c.topic)
		compareByKey(t, c.what+", gofka vs Kafka Streams", gofka, ks)
		want := map[string]string{}
		for k, d := range c.want {
			want[k] = canonValue(mustJSON(d))
		}
		compareTables(t, c.what+", gofka vs the brute force", latest(gofka), want)
		compareTables(t, c.what+", Kafka Streams vs the brute force", latest(ks), want)
		t.Logf("fkjoin %s: %d records from gofka, %d from Kafka Streams; %d rows", c.what, len(gofka), len(ks), len(want))
	}
}

// fkPhases writes examples/fkjoin's input phase by phase and keeps the
// brute force's tables.
type fkPhases struct {
	j     *joinPeers
	in    *joinInput
	m     *fkTables
	phase int
}

// run writes the phases: the sentinel order; customers; orders (some of
// customers not known yet, some without a customer: a null foreign key);
// customers renamed, moved, deleted and added; orders added, moved to other
// customers (known or not, or none), changed and deleted; customers deleted.
func (p *fkPhases) run(rng *rand.Rand) {
	regions := []string{"north", "south", "east", "west"}
	newCustomer := func(id string) *tjCustomer {
		return &tjCustomer{Name: "name-" + id, Region: regions[rng.IntN(len(regions))]}
	}
	p.orders(0, nil)
	p.customers(20, func(id string) (*tjCustomer, bool) { return newCustomer(id), true })
	p.orders(50, func(string) (*fkOrder, bool) { // c20-c24 are not known yet; some orders have no customer
		o := &fkOrder{Customer: fmt.Sprintf("c%02d", rng.IntN(25)), AmountCents: 100 + rng.Int64N(9900)}
		if rng.IntN(8) == 0 {
			o.Customer = "" // a null foreign key (KIP-962): left-joined with no customer, not inner-joined
		}
		return o, true
	})
	p.customers(22, func(id string) (*tjCustomer, bool) {
		old, known := p.m.customers[id]
		switch r := rng.IntN(10); {
		case !known:
			return newCustomer(id), true
		case r < 3:
			return &tjCustomer{Name: old.Name + "-renamed", Region: old.Region}, true
		case r < 5:
			return &tjCustomer{Name: old.Name, Region: regions[rng.IntN(len(regions))]}, true
		case r < 7:
			return nil, true
		}
		return nil, false
	})
	p.orders(55, func(id string) (*fkOrder, bool) {
		old, known := p.m.orders[id]
		switch r := rng.IntN(10); {
		case !known:
			return &fkOrder{Customer: fmt.Sprintf("c%02d", rng.IntN(25)), AmountCents: 1}, true
		case r < 3: // moves to another customer, known or not
			return &fkOrder{Customer: fmt.Sprintf("c%02d", rng.IntN(25)), AmountCents: old.AmountCents}, true
		case r < 5: // same customer, new amount
			return &fkOrder{Customer: old.Customer, AmountCents: old.AmountCents + 1}, true
		case r < 6:
			return nil, true
		case r < 7: // loses its customer: a null foreign key
			return &fkOrder{AmountCents: old.AmountCents}, true
		}
		return nil, false
	})
	p.customers(25, func(id string) (*tjCustomer, bool) {
		if _, known := p.m.customers[id]; known && rng.IntN(4) == 0 {
			return nil, true
		}
		return nil, false
	})
}

// orders writes what set says for orders o000 to o<n-1> (false: nothing, nil:
// a delete), then the sentinel order with the phase as its amount, and waits
// for both engines' rows of it.
func (p *fkPhases) orders(n int, set func(id string) (*fkOrder, bool)) {
	p.phase++
	var recs []*kgo.Record
	for i := range n {
		id := fmt.Sprintf("o%03d", i)
		if o, ok := set(id); ok {
			if o == nil {
				delete(p.m.orders, id)
			} else {
				p.m.orders[id] = *o
			}
			recs = append(recs, p.in.record("orders", id, jsonOrNil(o)))
		}
	}
	s := fkOrder{Customer: fkSentinelCustomer, AmountCents: int64(p.phase)}
	p.m.orders[fkSentinelOrder] = s
	p.j.produce(append(recs, p.in.record("orders", fkSentinelOrder, mustJSON(s)))...)
	topics := []string{fkLeft, fkInner}
	if p.phase == 1 {
		topics = topics[:1] // the sentinel customer is not known yet: no inner row
	}
	p.waitSentinel(topics, func(d fkDetails) bool { return d.AmountCents == s.AmountCents })
}

// customers is orders for customers c00 to c<n-1>; the sentinel customer is
// renamed after the phase.
func (p *fkPhases) customers(n int, set func(id string) (*tjCustomer, bool)) {
	p.phase++
	var recs []*kgo.Record
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		if c, ok := set(id); ok {
			if c == nil {
				delete(p.m.customers, id)
			} else {
				p.m.customers[id] = *c
			}
			recs = append(recs, p.in.record("customers", id, jsonOrNil(c)))
		}
	}
	s := tjCustomer{Name: fmt.Sprintf("phase-%d", p.phase), Region: "sentinel"}
	p.m.customers[fkSentinelCustomer] = s
	p.j.produce(append(recs, p.in.record("customers", fkSentinelCustomer, mustJSON(s)))...)
	p.waitSentinel([]string{fkLeft, fkInner}, func(d fkDetails) bool { return d.Name == s.Name })
}

// waitSentinel waits until the sentinel order's last row in each of topics
// passes ok, from both engines.
func (p *fkPhases) waitSentinel(topics []string, ok func(fkDetails) bool) {
	for _, topic := range topics {
		p.j.waitBoth(fmt.Sprintf("phase %d", p.phase), topic, func(rs []outRec) bool {
			var last *outRec
			for i := range rs {
				if rs[i].key == fkSentinelOrder {
					last = &rs[i]
				}
			}
			var d fkDetails
			return last != nil && json.Unmarshal([]byte(last.value), &d) == nil && ok(d)
		})
	}
}
