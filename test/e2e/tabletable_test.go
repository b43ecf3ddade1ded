package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTableTableExample runs examples/tabletable (customers inner-, left- and
// outer-joined with their accounts) on a development broker, or the shared
// real one, with three partitions per topic: changes of both tables are
// written interleaved (new rows, updates, deletes, deletes of keys not held),
// and each output, read as a table, must converge to the brute force's join
// of the final tables, which does not depend on how the sides interleave. The
// application is then restarted on an empty state directory (its stores
// restored from their changelogs) and every customer deleted, with some
// accounts: the left join must end empty, the outer and inner ones hold the
// accounts left.
func TestTableTableExample(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	bin := buildExample(ctx, t, "tabletable")
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	outputs := []string{ttInner, ttLeft, ttOuter}
	if resp, err := kadm.NewClient(cl).CreateTopics(ctx, 3, 1, nil, append([]string{"customers", "accounts"}, outputs...)...); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	run := func() *proc {
		p := startBinary(t, bin, "tabletable", "run", "--state-dir", t.TempDir(), "--commit-interval", "200ms", "--brokers", addr)
		if err := p.waitLog(ctx, "msg=consuming"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	app := run()

	customers, accounts := map[string]ttCustomer{}, map[string]ttAccount{}
	rng := rand.New(rand.NewPCG(20, 2))
	var recs []*kgo.Record
	for i := range 600 {
		id := fmt.Sprintf("k%02d", rng.IntN(40))
		rec := &kgo.Record{Key: []byte(id)}
		del := rng.IntN(4) == 0
		if rng.IntN(2) == 0 {
			rec.Topic = "customers"
			if del {
				delete(customers, id)
			} else {
				c := ttCustomer{Name: fmt.Sprintf("name-%d", i), Region: "north"}
				customers[id], rec.Value = c, mustJSON(c)
			}
		} else {
			rec.Topic = "accounts"
			if del {
				delete(accounts, id)
			} else {
				a := ttAccount{BalanceCents: int64(i), Status: "open"}
				accounts[id], rec.Value = a, mustJSON(a)
			}
		}
		recs = append(recs, rec)
	}
	produceSync(ctx, t, cl, recs...)
	ttConverge(ctx, t, addr, "phase 1", customers, accounts)

	// Restart on an empty state directory, then delete every customer and
	// every third account.
	if code, err := app.stop(ctx); err != nil || code != 0 {
		t.Fatalf("stop: status %d, %v", code, err)
	}
	run()
	recs = nil
	for _, id := range slices.Sorted(maps.Keys(customers)) {
		recs = append(recs, &kgo.Record{Topic: "customers", Key: []byte(id)})
	}
	clear(customers)
	for i, id := range slices.Sorted(maps.Keys(accounts)) {
		if i%3 == 0 {
			recs = append(recs, &kgo.Record{Topic: "accounts", Key: []byte(id)})
			delete(accounts, id)
		}
	}
	produceSync(ctx, t, cl, recs...)
	ttConverge(ctx, t, addr, "phase 2", customers, accounts)
}

// ttConverge reads the three outputs until each, as a table, equals the join
// of customers and accounts; it fails after a minute.
func ttConverge(ctx context.Context, t *testing.T, addr, what string, customers map[string]ttCustomer, accounts map[string]ttAccount) {
	t.Helper()
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
	want := map[string]map[string]string{ttInner: {}, ttLeft: {}, ttOuter: {}}
	for id := range customers {
		want[ttLeft][id], want[ttOuter][id] = row(id), row(id)
		if _, ok := accounts[id]; ok {
			want[ttInner][id] = row(id)
		}
	}
	for id := range accounts {
		want[ttOuter][id] = row(id)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Minute) // a join that misses a delete never converges
	defer cancel()
	readUntil(ctx, t, addr, []string{ttInner, ttLeft, ttOuter}, func(recs []*kgo.Record) bool {
		got := map[string]map[string]string{ttInner: {}, ttLeft: {}, ttOuter: {}}
		for _, r := range recs { // a key's records are in one partition, in order
			if r.Value == nil {
				delete(got[r.Topic], string(r.Key))
			} else {
				got[r.Topic][string(r.Key)] = canonValue(r.Value)
			}
		}
		for topic, w := range want {
			if !maps.Equal(got[topic], w) {
				return false
			}
		}
		return true
	})
	t.Logf("%s: the joins hold %d, %d and %d rows (inner, left, outer) after %.1f s", what,
		len(want[ttInner]), len(want[ttLeft]), len(want[ttOuter]), time.Since(start).Seconds())
}
