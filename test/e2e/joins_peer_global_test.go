package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The global-table joins of TestJoinsBesideKafkaStreams (joins_peer_test.go):
// examples/orderenrich beside OrderEnrich.

const (
	oeEnriched, oeMissing = "enriched-orders", "orders-without-product"
	oeSentinelProduct     = "p-sentinel"
	oeSentinelPrefix      = "sentinel-"
)

// orderEnrichBesideKStreams: examples/orderenrich (orders inner- and
// left-joined with a global table of products by the order's product id) and
// OrderEnrich. Both engines update a global table on a thread of its own,
// beside the one that joins orders, so which orders see a product update
// depends on timing: products are written in phases, and a phase ends when
// both engines have it, shown by an order of the sentinel product (written
// again until it is) enriched with the phase's name for that product. Only
// then are the phase's orders written. Orders of the sentinel product are left
// out of the comparison (how many were written depends on timing); the rest
// must be the same sequence from both engines and the brute force's, with the
// orders' timestamps.
func orderEnrichBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	j := startJoinPeers(ctx, t, peer, bin, "OrderEnrich", []string{"products", "orders"}, []string{oeEnriched, oeMissing},
		"--out-enriched", "ks-"+oeEnriched, "--out-missing", "ks-"+oeMissing)
	p := &oePhases{j: j, in: &joinInput{base: time.Now().Add(-24 * time.Hour).Truncate(time.Second)},
		products: map[string]e2eProduct{}, rng: rand.New(rand.NewPCG(6, 1501))}
	p.productPhase(20, func(id string, _ *e2eProduct) (*e2eProduct, bool) { return p.newProduct(id), true })
	p.orderPhase(80, 25) // p20-p24 are not known yet
	p.productPhase(25, func(id string, old *e2eProduct) (*e2eProduct, bool) {
		switch r := p.rng.IntN(10); {
		case old == nil:
			return p.newProduct(id), true
		case r < 3: // renamed
			return &e2eProduct{ID: id, Name: old.Name + "-renamed", PriceCents: old.PriceCents}, true
		case r < 5: // repriced
			return &e2eProduct{ID: id, Name: old.Name, PriceCents: old.PriceCents + 7}, true
		case r < 7: // deleted
			return nil, true
		}
		return nil, false
	})
	p.orderPhase(80, 27)

	for _, c := range []struct {
		what, topic string
		want        []outRec
	}{{"inner join", oeEnriched, p.wantEnriched}, {"left join, unknown products", oeMissing, p.wantMissing}} {
		gofka, ks := withoutSentinels(j.read(c.topic)), withoutSentinels(j.read("ks-"+c.topic))
		compareSeq(t, c.what+", gofka vs Kafka Streams", gofka, ks)
		compareSeq(t, c.what+", gofka vs the brute force", gofka, c.want)
		compareSeq(t, c.what+", Kafka Streams vs the brute force", ks, c.want)
		t.Logf("orderenrich %s: %d records from gofka, %d from Kafka Streams, %d expected", c.what, len(gofka), len(ks), len(c.want))
	}
}

// oePhases writes examples/orderenrich's input phase by phase and keeps the
// brute force's product table and expected outputs.
type oePhases struct {
	j                         *joinPeers
	in                        *joinInput
	rng                       *rand.Rand
	products                  map[string]e2eProduct
	phase, orders, sentinels  int
	wantEnriched, wantMissing []outRec
}

func (p *oePhases) newProduct(id string) *e2eProduct {
	return &e2eProduct{ID: id, Name: "name-" + id, PriceCents: 50 + p.rng.Int64N(950)}
}

// productPhase writes what set says for products p00 to p<n-1> (false:
// nothing, nil: a delete), then renames the sentinel product to the phase,
// and waits until both engines join with it.
func (p *oePhases) productPhase(n int, set func(id string, old *e2eProduct) (*e2eProduct, bool)) {
	p.phase++
	var recs []*kgo.Record
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		var old *e2eProduct
		if o, ok := p.products[id]; ok {
			old = &o
		}
		if v, ok := set(id, old); ok {
			if v == nil {
				delete(p.products, id)
			} else {
				p.products[id] = *v
			}
			recs = append(recs, p.in.record("products", id, jsonOrNil(v)))
		}
	}
	name := fmt.Sprintf("phase-%d", p.phase)
	p.j.produce(append(recs, p.in.record("products", oeSentinelProduct, mustJSON(e2eProduct{ID: oeSentinelProduct, Name: name, PriceCents: 1})))...)
	p.waitSentinel(name)
}

// waitSentinel writes an order of the sentinel product every half second
// until both engines have enriched one with name.
func (p *oePhases) waitSentinel(name string) {
	start := time.Now()
	seen := func(topic string) bool {
		for _, r := range p.j.read(topic) {
			var e e2eEnriched
			if strings.HasPrefix(r.key, oeSentinelPrefix) && json.Unmarshal([]byte(r.value), &e) == nil && e.ProductName == name {
				return true
			}
		}
		return false
	}
	err := pollEvery(p.j.ctx, 500*time.Millisecond, "the sentinel product's "+name, func() (bool, error) {
		if p.j.gofka.exited() || p.j.ks.exited() {
			return false, fmt.Errorf("a program exited: gofka %v, Kafka Streams %v", p.j.gofka.err, p.j.ks.err)
		}
		if seen(oeEnriched) && seen("ks-"+oeEnriched) {
			return true, nil
		}
		p.sentinels++
		id := fmt.Sprintf("%s%03d", oeSentinelPrefix, p.sentinels)
		p.j.produce(p.in.record("orders", id, mustJSON(e2eOrder{ID: id, ProductID: oeSentinelProduct, Quantity: 1})))
		return false, nil
	})
	if err != nil {
		p.j.t.Fatal(err)
	}
	p.j.t.Logf("products phase %d: both engines have it after %.1f s, %d sentinel orders so far", p.phase, time.Since(start).Seconds(), p.sentinels)
}

// orderPhase writes n orders of products p00 to p<ids-1>, one in ten with a
// null key, and waits until both engines have written every order's rows.
func (p *oePhases) orderPhase(n, ids int) {
	var recs []*kgo.Record
	for range n {
		id := fmt.Sprintf("o%03d", p.orders)
		p.orders++
		o := e2eOrder{ID: id, ProductID: fmt.Sprintf("p%02d", p.rng.IntN(ids)), Quantity: 1 + p.rng.Int64N(5)}
		r, key := p.in.record("orders", id, mustJSON(o)), id
		if p.rng.IntN(10) == 0 {
			// A null key (KIP-962): both joins still look the product up
			// and keep the null key (Kafka Streams 3.9's KStreamKTableJoinProcessor).
			r.Key, key = nil, nullKey
		}
		recs = append(recs, r)
		e := e2eEnriched{OrderID: id, ProductID: o.ProductID, Quantity: o.Quantity}
		if pr, ok := p.products[o.ProductID]; ok {
			e.ProductName, e.TotalCents, e.Known = pr.Name, o.Quantity*pr.PriceCents, true
			p.wantEnriched = append(p.wantEnriched, outRec{key, canonValue(mustJSON(e)), r.Timestamp.UnixMilli()})
		} else {
			p.wantMissing = append(p.wantMissing, outRec{key, canonValue(mustJSON(e)), r.Timestamp.UnixMilli()})
		}
	}
	p.j.produce(recs...)
	p.j.waitBoth(fmt.Sprintf("%d orders enriched", p.orders), oeEnriched, func(rs []outRec) bool {
		return len(withoutSentinels(rs)) >= len(p.wantEnriched)
	})
	p.j.waitBoth(fmt.Sprintf("%d orders without product", p.orders), oeMissing, func(rs []outRec) bool {
		return len(withoutSentinels(rs)) >= len(p.wantMissing)
	})
}

// withoutSentinels is rs without the sentinel product's orders.
func withoutSentinels(rs []outRec) []outRec {
	var out []outRec
	for _, r := range rs {
		if !strings.HasPrefix(r.key, oeSentinelPrefix) {
			out = append(out, r)
		}
	}
	return out
}
