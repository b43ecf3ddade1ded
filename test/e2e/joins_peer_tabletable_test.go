package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The table-table joins of TestJoinsBesideKafkaStreams (joins_peer_test.go):
// examples/tabletable beside TableTable.

const (
	ttInner, ttLeft, ttOuter = "customer-accounts", "customers-with-accounts", "customers-or-accounts"
	ttSentinel               = "zz-sentinel"
)

// The records of examples/tabletable, as the test writes and reads them.
type (
	ttCustomer struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	}
	ttAccount struct {
		BalanceCents int64  `json:"balance_cents"`
		Status       string `json:"status"`
	}
	ttJoined struct {
		Name         string `json:"name"`
		Region       string `json:"region"`
		BalanceCents int64  `json:"balance_cents"`
		Status       string `json:"status"`
		HasCustomer  bool   `json:"has_customer"`
		HasAccount   bool   `json:"has_account"`
	}
)

// tableTableBesideKStreams: examples/tabletable (customers inner-, left- and
// outer-joined with their accounts, both tables keyed by customer id) and
// TableTable. Phases alternate between the sides, with new rows, updates,
// deletes, and deletes of keys the side does not hold; a phase ends with the
// sentinel key's row on that side renamed to the phase, shown by the left
// join (a customers phase) or the outer join (an accounts phase) from both
// engines. Timestamps are random within an hour, not in order on either side
// (a row is often updated with an older timestamp than it had), so a joined
// record's timestamp, the later of the change's and the other row's, is
// compared too. Each join must be the same sequence per key from both engines,
// timestamps included, and end as the brute force's table.
func tableTableBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	j := startJoinPeers(ctx, t, peer, bin, "TableTable", []string{"customers", "accounts"}, []string{ttInner, ttLeft, ttOuter},
		"--out-inner", "ks-"+ttInner, "--out-left", "ks-"+ttLeft, "--out-outer", "ks-"+ttOuter)
	in := &joinInput{base: time.Now().Add(-24 * time.Hour).Truncate(time.Second)}
	customers, accounts := map[string]ttCustomer{}, map[string]ttAccount{}
	rng := rand.New(rand.NewPCG(6, 2002))
	times := rand.New(rand.NewPCG(7, 2002))
	// record is in.record at a random time of the hour after in.base.
	record := func(topic, key string, value []byte) *kgo.Record {
		r := in.record(topic, key, value)
		r.Timestamp = in.base.Add(time.Duration(times.IntN(3600_000)) * time.Millisecond)
		return r
	}
	phase := 0
	// write sets keys k00..k<n-1> of topic as set says (false: nothing, nil: a
	// delete, whether or not the key is held), then the sentinel's row, and
	// waits until output shows the sentinel's row from both engines.
	write := func(topic string, n int, set func(id string) (any, bool), sentinel any, output string, shown func(ttJoined) bool) {
		phase++
		var recs []*kgo.Record
		for i := range n {
			id := fmt.Sprintf("k%02d", i)
			if v, ok := set(id); ok {
				var b []byte
				if v != nil {
					b = mustJSON(v)
				}
				recs = append(recs, record(topic, id, b))
			}
		}
		j.produce(append(recs, record(topic, ttSentinel, mustJSON(sentinel)))...)
		j.waitBoth(fmt.Sprintf("phase %d", phase), output, func(rs []outRec) bool {
			var d ttJoined
			v, ok := latest(rs)[ttSentinel]
			return ok && json.Unmarshal([]byte(v), &d) == nil && shown(d)
		})
	}
	customerPhase := func(n int, next func(id string, old *ttCustomer) (*ttCustomer, bool)) {
		name := fmt.Sprintf("phase-%d", phase+1)
		customers[ttSentinel] = ttCustomer{Name: name, Region: "sentinel"}
		write("customers", n, func(id string) (any, bool) {
			var old *ttCustomer
			if c, ok := customers[id]; ok {
				old = &c
			}
			c, ok := next(id, old)
			if ok && c == nil {
				delete(customers, id)
				return nil, true
			} else if ok {
				customers[id] = *c
				return c, true
			}
			return nil, false
		}, customers[ttSentinel], ttLeft, func(d ttJoined) bool { return d.Name == name })
	}
	accountPhase := func(n int, next func(id string, old *ttAccount) (*ttAccount, bool)) {
		status := fmt.Sprintf("phase-%d", phase+1)
		accounts[ttSentinel] = ttAccount{BalanceCents: int64(phase), Status: status}
		write("accounts", n, func(id string) (any, bool) {
			var old *ttAccount
			if a, ok := accounts[id]; ok {
				old = &a
			}
			a, ok := next(id, old)
			if ok && a == nil {
				delete(accounts, id)
				return nil, true
			} else if ok {
				accounts[id] = *a
				return a, true
			}
			return nil, false
		}, accounts[ttSentinel], ttOuter, func(d ttJoined) bool { return d.Status == status })
	}
	regions := []string{"north", "south", "east", "west"}
	change := func(create, del, keep int) int { // 0: create/update, 1: delete, 2: nothing
		switch r := rng.IntN(create + del + keep); {
		case r < create:
			return 0
		case r < create+del:
			return 1
		}
		return 2
	}
	customerPhase(30, func(id string, _ *ttCustomer) (*ttCustomer, bool) {
		if rng.IntN(5) == 0 {
			return nil, true // a delete of a customer never known
		}
		return &ttCustomer{Name: "name-" + id, Region: regions[rng.IntN(4)]}, true
	})
	for range 2 {
		accountPhase(40, func(id string, old *ttAccount) (*ttAccount, bool) {
			switch change(5, 2, 3) {
			case 0:
				a := ttAccount{BalanceCents: rng.Int64N(100_000), Status: "open"}
				if old != nil {
					a.Status = "changed"
				}
				return &a, true
			case 1:
				return nil, true
			}
			return nil, false
		})
		customerPhase(40, func(id string, old *ttCustomer) (*ttCustomer, bool) {
			switch change(4, 3, 3) {
			case 0:
				c := ttCustomer{Name: "new-" + id, Region: regions[rng.IntN(4)]}
				if old != nil {
					c.Name = old.Name + "-renamed"
				}
				return &c, true
			case 1:
				return nil, true
			}
			return nil, false
		})
	}

	// The brute force's tables.
	wantInner, wantLeft, wantOuter := map[string]string{}, map[string]string{}, map[string]string{}
	row := func(id string) string {
		var d ttJoined
		if c, ok := customers[id]; ok {
			d.Name, d.Region, d.HasCustomer = c.Name, c.Region, true
		}
		if a, ok := accounts[id]; ok {
			d.BalanceCents, d.Status, d.HasAccount = a.BalanceCents, a.Status, true
		}
		return canonValue(mustJSON(d))
	}
	for id := range customers {
		wantLeft[id], wantOuter[id] = row(id), row(id)
		if _, ok := accounts[id]; ok {
			wantInner[id] = row(id)
		}
	}
	for id := range accounts {
		wantOuter[id] = row(id)
	}
	for _, c := range []struct {
		what, topic string
		want        map[string]string
	}{{"inner join", ttInner, wantInner}, {"left join", ttLeft, wantLeft}, {"outer join", ttOuter, wantOuter}} {
		gofka, ks := j.read(c.topic), j.read("ks-"+c.topic)
		compareByKey(t, c.what+", gofka vs Kafka Streams", gofka, ks)
		compareTables(t, c.what+", gofka vs the brute force", latest(gofka), c.want)
		compareTables(t, c.what+", Kafka Streams vs the brute force", latest(ks), c.want)
		t.Logf("tabletable %s: %d records from gofka, %d from Kafka Streams; %d rows", c.what, len(gofka), len(ks), len(c.want))
	}
}
