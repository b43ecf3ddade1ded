package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The stream-table join of TestJoinsBesideKafkaStreams (joins_peer_test.go):
// examples/tablejoin beside TableJoin, on input written in phases that
// alternate between the two sides of the join.

// joinInput numbers the records it makes: each gets a timestamp one second
// after the one before, from a day ago (inside a broker's default retention).
type joinInput struct {
	base time.Time
	n    int
}

func (in *joinInput) record(topic, key string, value []byte) *kgo.Record {
	in.n++
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: value, Timestamp: in.base.Add(time.Duration(in.n) * time.Second)}
}

// jsonOrNil is v's JSON, or nil (a tombstone: a delete) for nil. Not the JSON
// null: Kafka Streams' Jackson serde reads it as null, a delete, but gofka's
// JSON serde as the type's zero value, a row (see the README, "Joins").
func jsonOrNil[T any](v *T) []byte {
	if v == nil {
		return nil
	}
	return mustJSON(v)
}

// tableJoinBesideKStreams: examples/tablejoin (orders left-joined with the
// customers table; customers counted per region) and TableJoin. Customers are
// loaded, orders placed (some for customers not yet known), customers move,
// are renamed in their region, leave and arrive, orders placed again. A phase
// of customers ends with a sentinel customer moving to a region of the phase's
// own, whose count of 1 shows the phase processed (the count is downstream of
// the table the join reads); a phase of orders is processed when every order
// is enriched. The enriched orders must be the same sequence from both engines
// and the brute force's (tjModel, timestamps the orders'); the counts per
// region the same sequence per region from both, ending at the brute force's.
func tableJoinBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	const counts, enriched = "customers-per-region", "enriched-orders"
	j := startJoinPeers(ctx, t, peer, bin, "TableJoin", []string{"customers", "orders"}, []string{enriched, counts},
		"--out", "ks-"+enriched, "--out-counts", "ks-"+counts)
	in := &joinInput{base: time.Now().Add(-24 * time.Hour).Truncate(time.Second)}
	m := &tjModel{customers: map[string]tjCustomer{}, perRegion: map[string]int64{}}
	rng := rand.New(rand.NewPCG(6, 15))
	regions := []string{"north", "south", "east", "west"}
	phase, nOrders := 0, 0
	var wantEnriched []outRec

	customers := func(set func(id string) (*tjCustomer, bool), ids int) {
		phase++
		var recs []*kgo.Record
		for i := range ids {
			id := fmt.Sprintf("c%02d", i)
			if c, ok := set(id); ok {
				m.set(id, c)
				recs = append(recs, in.record("customers", id, jsonOrNil(c)))
			}
		}
		sentinel := &tjCustomer{Name: "sentinel", Region: fmt.Sprintf("phase-%d", phase)}
		m.set("zz-sentinel", sentinel)
		j.produce(append(recs, in.record("customers", "zz-sentinel", mustJSON(sentinel)))...)
		j.waitBoth(fmt.Sprintf("customers phase %d", phase), counts, func(rs []outRec) bool {
			return latest(rs)[sentinel.Region] == "1"
		})
	}
	orders := func(n, ids int) {
		var recs []*kgo.Record
		for range n {
			id, o := fmt.Sprintf("o%03d", nOrders), tjOrder{Customer: fmt.Sprintf("c%02d", rng.IntN(ids)), AmountCents: 100 + rng.Int64N(9900)}
			nOrders++
			r := in.record("orders", id, mustJSON(o))
			recs = append(recs, r)
			wantEnriched = append(wantEnriched, outRec{o.Customer, canonValue(mustJSON(m.enrich(id, o))), r.Timestamp.UnixMilli()})
		}
		j.produce(recs...)
		j.waitBoth(fmt.Sprintf("%d orders enriched", nOrders), enriched, func(rs []outRec) bool { return len(rs) >= nOrders })
	}

	customers(func(id string) (*tjCustomer, bool) {
		return &tjCustomer{Name: "name-" + id, Region: regions[rng.IntN(len(regions))]}, true
	}, 30)
	orders(80, 35) // c30-c34 are not known yet
	customers(func(id string) (*tjCustomer, bool) {
		old, known := m.customers[id]
		switch r := rng.IntN(20); {
		case !known:
			return &tjCustomer{Name: "new-" + id, Region: regions[rng.IntN(len(regions))]}, true
		case r < 5: // moves
			return &tjCustomer{Name: old.Name, Region: regions[(slices.Index(regions, old.Region)+1+rng.IntN(3))%len(regions)]}, true
		case r < 10: // renamed, same region
			return &tjCustomer{Name: old.Name + "-renamed", Region: old.Region}, true
		case r < 13: // leaves
			return nil, true
		}
		return nil, false
	}, 35)
	orders(80, 37)

	gofkaEnriched, ksEnriched := j.read(enriched), j.read("ks-"+enriched)
	compareSeq(t, "enriched orders, gofka vs Kafka Streams", gofkaEnriched, ksEnriched)
	compareSeq(t, "enriched orders, gofka vs the brute force", gofkaEnriched, wantEnriched)
	gofkaCounts, ksCounts := j.read(counts), j.read("ks-"+counts)
	// A customer updated in its region emits its region's count once (both
	// rows in one record, KIP-904), not n-1 then n.
	compareByKey(t, "counts per region, gofka vs Kafka Streams", gofkaCounts, ksCounts)
	wantCounts := map[string]string{}
	for region, n := range m.perRegion {
		wantCounts[region] = fmt.Sprint(n)
	}
	compareTables(t, "counts per region, gofka vs the brute force", latest(gofkaCounts), wantCounts)
	compareTables(t, "counts per region, Kafka Streams vs the brute force", latest(ksCounts), wantCounts)
	t.Logf("tablejoin: %d enriched orders; %d count updates from gofka, %d from Kafka Streams", len(gofkaEnriched), len(gofkaCounts), len(ksCounts))
}

// compareTables reports the keys whose values differ.
func compareTables(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var lines []string
	for _, k := range sortedKeys(got, want) {
		g, gok := got[k]
		w, wok := want[k]
		if g != w || gok != wok {
			lines = append(lines, fmt.Sprintf("  %s: %q (present %v), want %q (present %v)", k, g, gok, w, wok))
		}
	}
	reportLines(t, what, len(got), len(want), lines)
}
