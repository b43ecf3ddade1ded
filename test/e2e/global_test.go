package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The records of examples/orderenrich, as the test writes and reads them: its
// own types, so the expectations do not come from the example's code.
type (
	e2eProduct struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		PriceCents int64  `json:"price_cents"`
	}
	e2eOrder struct {
		ID        string `json:"id"`
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
	}
	e2eEnriched struct {
		OrderID     string `json:"order_id"`
		ProductID   string `json:"product_id"`
		ProductName string `json:"product_name,omitempty"`
		Quantity    int64  `json:"quantity"`
		TotalCents  int64  `json:"total_cents"`
		Known       bool   `json:"known"`
	}
)

// globalStatus is what the test reads of a replica's global table in /status.
type globalStatus struct {
	Replica struct {
		Tasks []struct {
			Task string `json:"task"`
		} `json:"tasks"`
		Globals []struct {
			Table           string `json:"table"`
			RestoredFrom    string `json:"restored_from"`
			RestoredRecords int64  `json:"restored_records"`
			Applied         int64  `json:"records_applied"`
			Lag             int64  `json:"lag"`
		} `json:"global_tables"`
	} `json:"replica"`
}

// orderEnrichRun is two replicas of examples/orderenrich and what the test
// wrote: the product table as it must be (brute force), and the expected
// output of every order.
type orderEnrichRun struct {
	t        *testing.T
	ctx      context.Context
	addr     string
	cl       *kgo.Client
	c        *cluster
	bin      string
	rng      *rand.Rand
	products map[string]e2eProduct
	written  int64 // product records written (upserts and deletes)
	// writtenAtStart is written when each replica's process last started.
	writtenAtStart [2]int64
	want           map[string]e2eEnriched // by order id: what enriched-orders or orders-without-product must hold
	orders         int
	killed         bool // a replica was SIGKILLed: some orders are processed again
}

func (r *orderEnrichRun) start(i int) {
	r.t.Helper()
	c := r.c
	c.starts++
	r.writtenAtStart[i] = r.written
	p := startBinary(r.t, r.bin, fmt.Sprintf("r%d#%d", i, c.starts),
		"run", "--brokers", r.addr, "--state-dir", c.dirs[i], "--replica-id", fmt.Sprintf("r%d", i),
		"--commit-interval", "300ms", "--raft-addr", c.raft[i], "--peers", strings.Join(c.raft, ","),
		"--status-addr", c.status[i], "--snapshots", c.snapshots, "--failure-timeout", "4s", "--voters", "1")
	c.procs[i] = p
	c.all = append(c.all, p)
}

// writeProducts upserts n random products (and deletes some), keeping the
// brute-force table.
func (r *orderEnrichRun) writeProducts(n int) {
	r.t.Helper()
	var recs []*kgo.Record
	for range n {
		id := fmt.Sprintf("p%d", r.rng.IntN(300))
		rec := &kgo.Record{Topic: "products", Key: []byte(id)}
		if r.rng.IntN(8) == 0 {
			delete(r.products, id) // a tombstone
		} else {
			p := e2eProduct{ID: id, Name: fmt.Sprintf("item-%d", r.rng.IntN(1e6)), PriceCents: 1 + r.rng.Int64N(10_000)}
			r.products[id] = p
			rec.Value, _ = json.Marshal(p)
		}
		recs = append(recs, rec)
	}
	// One at a time: the brute force assumes the table sees them in this order.
	for _, rec := range recs {
		if err := r.cl.ProduceSync(r.ctx, rec).FirstErr(); err != nil {
			r.t.Fatal(err)
		}
	}
	r.written += int64(n)
}

// writeOrders writes n orders of random products (known or not) and records
// what each must become under the table as it is now.
func (r *orderEnrichRun) writeOrders(n int) {
	r.t.Helper()
	var recs []*kgo.Record
	for range n {
		r.orders++
		o := e2eOrder{ID: fmt.Sprintf("o%d", r.orders), ProductID: fmt.Sprintf("p%d", r.rng.IntN(330)), Quantity: 1 + r.rng.Int64N(20)}
		e := e2eEnriched{OrderID: o.ID, ProductID: o.ProductID, Quantity: o.Quantity}
		if p, ok := r.products[o.ProductID]; ok {
			e.ProductName, e.TotalCents, e.Known = p.Name, o.Quantity*p.PriceCents, true
		}
		r.want[o.ID] = e
		v, _ := json.Marshal(o)
		recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(o.ID), Value: v})
	}
	if err := r.cl.ProduceSync(r.ctx, recs...).FirstErr(); err != nil {
		r.t.Fatal(err)
	}
}

// caughtUp waits until replica i's global table has applied every product
// record written, and returns its status. A process that started from its
// checkpoint applies only what the checkpoint did not cover: the records
// written before it started, less those it restored.
func (r *orderEnrichRun) caughtUp(i int) globalStatus {
	r.t.Helper()
	var st globalStatus
	err := poll(r.ctx, fmt.Sprintf("r%d's global table applies %d records", i, r.written), func() (bool, error) {
		if p := r.c.procs[i]; p.exited() {
			return false, fmt.Errorf("r%d exited: %v", i, p.err)
		}
		st = globalStatus{}
		if err := r.c.getJSON(r.ctx, i, &st); err != nil || len(st.Replica.Globals) != 1 {
			return false, nil
		}
		g := st.Replica.Globals[0]
		need := r.written
		if g.RestoredFrom == "checkpoint" {
			need -= r.writtenAtStart[i] - g.RestoredRecords
		}
		return g.Applied >= need, nil
	})
	if err != nil {
		r.t.Fatalf("%v: last status %+v", err, st)
	}
	return st
}

// tasksRunning waits until the 4 tasks (one per orders partition) run, each
// on one replica, and every replica runs at least one.
func (r *orderEnrichRun) tasksRunning() {
	r.t.Helper()
	var owners map[string]int
	err := poll(r.ctx, "the 4 tasks run, spread over both replicas", func() (bool, error) {
		owners = map[string]int{}
		per := map[int]int{}
		for i := range 2 {
			var st globalStatus
			if err := r.c.getJSON(r.ctx, i, &st); err != nil {
				return false, nil
			}
			for _, tk := range st.Replica.Tasks {
				if _, dup := owners[tk.Task]; dup {
					return false, nil // a hand-over seen half done
				}
				owners[tk.Task] = i
				per[i]++
			}
		}
		return len(owners) == 4 && per[0] > 0 && per[1] > 0, nil
	})
	if err != nil {
		r.t.Fatalf("%v: %v", err, owners)
	}
}

// checkOutputs reads both output topics until every order is there, and
// compares each with the brute force. At-least-once may repeat a record: a
// repeat must be equal, except after a SIGKILL, when orders processed but not
// committed are processed again with the table as it is then (possibly
// newer, and possibly into the other topic); one of an order's records must
// then be the expected one (its first processing came before any later
// product was written, but two topics are read in no common order).
func (r *orderEnrichRun) checkOutputs() {
	r.t.Helper()
	got := map[string][]e2eEnriched{}
	var bad []string
	read := 0
	readUntil(r.ctx, r.t, r.addr, []string{"enriched-orders", "orders-without-product"}, func(recs []*kgo.Record) bool {
		for _, rec := range recs[read:] {
			read++
			var e e2eEnriched
			if err := json.Unmarshal(rec.Value, &e); err != nil || string(rec.Key) != e.OrderID || (rec.Topic == "enriched-orders") != e.Known {
				bad = append(bad, fmt.Sprintf("%s %s %s", rec.Topic, rec.Key, rec.Value))
				continue
			}
			got[e.OrderID] = append(got[e.OrderID], e)
		}
		return len(got) >= len(r.want) || len(bad) > 0
	})
	for _, b := range bad {
		r.t.Errorf("bad output record: %s", b)
	}
	known, repeated := 0, 0
	for id, w := range r.want {
		recs := got[id]
		if len(recs) > 1 {
			repeated++
		}
		switch {
		case !slices.Contains(recs, w):
			r.t.Errorf("order %s: got %+v, want %+v", id, recs, w)
		case !r.killed && slices.ContainsFunc(recs, func(e e2eEnriched) bool { return e != w }):
			r.t.Errorf("order %s: got %+v, want only %+v (no replica was killed)", id, recs, w)
		}
		if w.Known {
			known++
		}
	}
	if known == 0 || known == len(r.want) {
		r.t.Fatalf("%d of %d orders found their product: the run does not test both outputs", known, len(r.want))
	}
	r.t.Logf("%d orders checked (%d with a known product, %d without; %d written more than once)", len(r.want), known, len(r.want)-known, repeated)
}

// TestGlobalTableOrderEnrich runs two replicas of examples/orderenrich. The
// products topic (3 partitions) is written before they start; the orders
// (4 partitions, so 4 tasks shared between the replicas) are checked against
// a brute-force join, which holds only if every replica holds the whole table
// whatever partitions it runs. Products changed while the replicas run are
// followed. Replica 1 is then stopped (SIGTERM), products are written while it
// is down, and after its restart it reads only those from the topic: its
// RocksDB copy and recorded offsets cover the rest (asserted on /status'
// restored_records, which the log line "global table restored" also gives).
// After a SIGKILL it reads a tail too: what was written since its last
// recorded offsets.
func TestGlobalTableOrderEnrich(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	_, addr := startBroker(ctx, t)
	r := &orderEnrichRun{t: t, ctx: ctx, addr: addr, bin: buildExample(ctx, t, "orderenrich"), rng: rand.New(rand.NewPCG(15, 3)),
		products: map[string]e2eProduct{}, want: map[string]e2eEnriched{}, c: newCluster(t, addr, 2)}
	r.cl = client(t, addr, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	adm := kadm.NewClient(client(t, addr))
	for topic, parts := range map[string]int32{"products": 3, "orders": 4, "enriched-orders": 4, "orders-without-product": 4} {
		resp, err := adm.CreateTopic(ctx, parts, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			t.Fatalf("create %s: %v", topic, err)
		}
	}
	r.writeProducts(600)

	r.start(0)
	r.start(1)
	for i := range 2 {
		st := r.caughtUp(i)
		if g := st.Replica.Globals[0]; g.RestoredFrom != "start" || g.RestoredRecords != r.written {
			t.Errorf("r%d restored %d records from %q at its first start, want all %d from the start", i, g.RestoredRecords, g.RestoredFrom, r.written)
		}
	}
	r.tasksRunning()
	r.writeOrders(400)
	r.checkOutputs()

	// Followed while running.
	r.writeProducts(200)
	r.caughtUp(0)
	r.caughtUp(1)
	r.writeOrders(400)
	r.checkOutputs()

	// A restart reads only the tail. r1 is stopped: r0, the group's only
	// voter (two replicas: --voters 1), keeps leading and takes its tasks.
	stopClean(ctx, t, r.c.procs[1])
	before := r.written
	r.writeProducts(50)
	r.start(1)
	st := r.caughtUp(1)
	g := st.Replica.Globals[0]
	if g.RestoredFrom != "checkpoint" || g.RestoredRecords != r.written-before {
		t.Errorf("r1 restarted: restored %d records from %q, want the %d written while it was down, from its checkpoint", g.RestoredRecords, g.RestoredFrom, r.written-before)
	}
	t.Logf("r1 restarted: restored %d of the %d product records from its checkpoint", g.RestoredRecords, r.written)
	r.caughtUp(0)
	r.tasksRunning()
	r.writeOrders(400)
	r.checkOutputs()

	// After a SIGKILL the checkpoint is the one of the last commit interval
	// (or of the restore): still only a tail is read, at least what was
	// written while the replica was down.
	r.c.kill(1)
	r.killed = true
	before = r.written
	r.writeProducts(50)
	r.start(1)
	st = r.caughtUp(1)
	g = st.Replica.Globals[0]
	if g.RestoredFrom != "checkpoint" || g.RestoredRecords < r.written-before || g.RestoredRecords >= r.written {
		t.Errorf("r1 restarted after SIGKILL: restored %d records from %q, want at least the %d written while it was down and fewer than all %d, from its checkpoint",
			g.RestoredRecords, g.RestoredFrom, r.written-before, r.written)
	}
	t.Logf("r1 restarted after SIGKILL: restored %d of the %d product records from its checkpoint", g.RestoredRecords, r.written)
	r.caughtUp(0)
	r.tasksRunning()
	r.writeOrders(400)
	r.checkOutputs()
	stopClean(ctx, t, r.c.procs[0])
	stopClean(ctx, t, r.c.procs[1])
}
