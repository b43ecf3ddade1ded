package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// The joins' windows, as topology.go writes them, in milliseconds.
const (
	payBefore, payAfter       = int64(5 * time.Minute / time.Millisecond), int64(time.Minute / time.Millisecond)
	settleBefore, settleAfter = int64(2 * time.Minute / time.Millisecond), int64(15 * time.Minute / time.Millisecond)
)

// event is an input record: an order (key: its id) or a payment (key: its
// own id; Order names the order it pays).
type event struct {
	payment bool
	id      string
	order   Order
	pay     Payment
	ts      int64
}

// round is the input of one hour: its orders and the payment of its last
// order (phase A), then its other payments, in time order (phase B).
type round struct{ a, b []event }

// randomRounds makes n rounds, an hour apart from base, of orders 2 s apart
// over two minutes, each paid 0 to 3 times from 6 minutes before to 17
// minutes after it (about half on or next to a window's edge), plus payments
// for orders that do not exist.
//
// Nothing is late, whatever the order the two sides are read in within a
// phase: when a payment of phase B is read, every order of its round has been
// (phase A ended when both joins had joined the sentinel, its last order), and
// stream time is at most the round's last payment, 17 minutes after its last
// order; an order is kept that long by both joins' stores and waits in the
// outer join's store for 15 + 5 minutes, so every pair of the brute force is
// found and no order of a pair is written unpaid first. The next round, an
// hour later, closes every window of this one.
func randomRounds(rng *rand.Rand, base int64, n int) []round {
	edges := []int64{-payBefore - 1, -payBefore, -settleBefore - 1, -settleBefore, 0, payAfter, payAfter + 1, settleAfter, settleAfter + 1}
	var rounds []round
	for r := range n {
		var rd round
		start := base + int64(r)*3600_000
		const orders = 60
		for i := range orders {
			o := event{id: fmt.Sprintf("o%d-%02d", r, i), ts: start + int64(i)*2000,
				order: Order{Customer: fmt.Sprintf("c%d", rng.IntN(20)), AmountCents: 100 + rng.Int64N(10_000)}}
			rd.a = append(rd.a, o)
			for j := range rng.IntN(4) {
				off := rng.Int64N(23*60_000) - 6*60_000
				if rng.IntN(2) == 0 {
					off = edges[rng.IntN(len(edges))]
				}
				rd.b = append(rd.b, paymentOf(fmt.Sprintf("p%d-%02d-%d", r, i, j), o.id, o.ts+off, rng))
			}
		}
		last := rd.a[len(rd.a)-1]
		rd.a = append(rd.a, paymentOf(fmt.Sprintf("p%d-sentinel", r), last.id, last.ts, rng))
		for j := range orders / 10 {
			rd.b = append(rd.b, paymentOf(fmt.Sprintf("p%d-orphan-%d", r, j), fmt.Sprintf("o%d-none-%d", r, j), start-6*60_000+rng.Int64N(25*60_000), rng))
		}
		slices.SortStableFunc(rd.b, func(x, y event) int { return int(x.ts - y.ts) })
		rounds = append(rounds, rd)
	}
	return rounds
}

func paymentOf(id, order string, ts int64, rng *rand.Rand) event {
	return event{payment: true, id: id, ts: ts,
		pay: Payment{Order: order, AmountCents: 100 + rng.Int64N(10_000), Method: []string{"card", "transfer", "wallet"}[rng.IntN(3)]}}
}

// out is an output record: key, JSON value, timestamp.
type out struct {
	key, value string
	ts         int64
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// bruteForce is what the two joins write for evs, as counts of records: for
// each order and each payment of it within a window, the joined record at
// the later of the two times; and, for the outer join, each order and payment
// that no pair holds, alone at its own time.
func bruteForce(evs []event) (paid, reconciled map[out]int) {
	paid, reconciled = map[out]int{}, map[out]int{}
	settled := map[string]bool{} // payment ids in a pair
	for _, o := range evs {
		if o.payment {
			continue
		}
		n := 0
		for _, p := range evs {
			if !p.payment || p.pay.Order != o.id {
				continue
			}
			if o.ts-payBefore <= p.ts && p.ts <= o.ts+payAfter {
				paid[out{o.id, mustJSON(pay(o.order, p.pay)), max(o.ts, p.ts)}]++
			}
			if o.ts-settleBefore <= p.ts && p.ts <= o.ts+settleAfter {
				n++
				settled[p.id] = true
				reconciled[out{o.id, mustJSON(reconcile(&o.order, &p.pay)), max(o.ts, p.ts)}]++
			}
		}
		if n == 0 {
			reconciled[out{o.id, mustJSON(reconcile(&o.order, nil)), o.ts}]++
		}
	}
	for _, p := range evs {
		if p.payment && !settled[p.id] {
			reconciled[out{p.pay.Order, mustJSON(reconcile(nil, &p.pay)), p.ts}]++
		}
	}
	return paid, reconciled
}

// TestAgainstBruteForce pipes rounds of orders and payments, phase by phase,
// then an order two hours after the last round on each partition (which
// closes its windows),
// through the in-process driver on 3 partitions, and compares both outputs
// with bruteForce's, timestamps included.
func TestAgainstBruteForce(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			const base = int64(1_700_000_000_000)
			rounds := randomRounds(rand.New(rand.NewPCG(seed, 6)), base, 3)
			d := streamstest.NewDriver(CompiledOrderPayments(), streamstest.WithPartitions(3))
			defer d.Close()
			var evs []event
			pipe := func(e event) {
				topic, v := "orders", mustJSON(e.order)
				if e.payment {
					topic, v = "payments", mustJSON(e.pay)
				}
				if err := d.PipeRawAt(topic, []byte(e.id), []byte(v), e.ts); err != nil {
					t.Fatal(err)
				}
			}
			for _, rd := range rounds {
				for _, e := range append(slices.Clone(rd.a), rd.b...) {
					pipe(e)
					evs = append(evs, e)
				}
			}
			// One order on each partition: each task has its own stream time.
			for p := range d.Partitions() {
				pipe(event{id: tickKey(p, d.Partitions()), order: Order{Customer: "tick"}, ts: base + int64(len(rounds)+1)*3600_000})
			}
			paid, reconciled := bruteForce(evs)
			for _, c := range []struct {
				topic string
				want  map[out]int
			}{{"paid-orders", paid}, {"reconciliation", reconciled}} {
				got, recs := map[out]int{}, d.ReadRaw(c.topic)
				for _, r := range recs {
					got[out{string(r.Key), string(r.Value), r.Timestamp}]++
				}
				if !maps.Equal(got, c.want) {
					for _, k := range slices.Collect(maps.Keys(mergeKeys(got, c.want))) {
						if got[k] != c.want[k] {
							t.Errorf("%s: %v written %d times, want %d", c.topic, k, got[k], c.want[k])
						}
					}
				}
				t.Logf("%s: %d records", c.topic, len(recs))
			}
			statuses := map[string]int{}
			for k, n := range reconciled {
				var r Reconciliation
				_ = json.Unmarshal([]byte(k.value), &r)
				statuses[r.Status] += n
			}
			if statuses["paid"] == 0 || statuses["unpaid"] == 0 || statuses["orphan"] == 0 {
				t.Errorf("the input gives %v: it tests too little", statuses)
			}
			t.Logf("reconciliation: %v", statuses)
		})
	}
}

// tickKey is a key on partition p of n.
func tickKey(p, n int32) string {
	for i := 0; ; i++ {
		if k := fmt.Sprintf("tick-%d", i); runtime.Partition([]byte(k), n) == p {
			return k
		}
	}
}

func mergeKeys(a, b map[out]int) map[out]bool {
	m := map[out]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
