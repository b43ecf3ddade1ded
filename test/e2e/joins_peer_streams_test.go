package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The stream-stream inner and outer joins of TestJoinsBesideKafkaStreams
// (joins_peer_test.go): examples/orderpayments beside OrderPayments. Orders
// (key: order id) are joined with payments re-keyed by the order they pay
// (so read through a repartition topic per join), by an inner join (a payment
// from 5 min before the order to 1 min after, 30 s of grace) into
// paid-orders, and by an outer join (2 min before to 15 min after, 5 min of
// grace) into reconciliation, where an order or payment that joined nothing
// is written alone once its window has closed.

const (
	opPaid, opReconciled = "paid-orders", "reconciliation"
	// The windows, in milliseconds.
	opPayBefore, opPayAfter       = int64(5 * 60_000), int64(60_000)
	opSettleBefore, opSettleAfter = int64(2 * 60_000), int64(15 * 60_000)
)

// The records of examples/orderpayments, as the test writes and reads them.
type (
	opOrder struct {
		Customer    string `json:"customer"`
		AmountCents int64  `json:"amount_cents"`
	}
	opPayment struct {
		Order       string `json:"order"`
		AmountCents int64  `json:"amount_cents"`
		Method      string `json:"method"`
	}
	opPaidOrder struct {
		Customer   string `json:"customer"`
		OrderCents int64  `json:"order_cents"`
		PaidCents  int64  `json:"paid_cents"`
		Method     string `json:"method"`
	}
	opReconciliation struct {
		Status     string `json:"status"`
		Customer   string `json:"customer"`
		OrderCents int64  `json:"order_cents"`
		PaidCents  int64  `json:"paid_cents"`
	}
)

// opEvent is an order (key: its id) or a payment (key: its own id).
type opEvent struct {
	payment bool
	id      string
	order   opOrder
	pay     opPayment
	ts      int64
}

func (e opEvent) record() *kgo.Record {
	if e.payment {
		return &kgo.Record{Topic: "payments", Key: []byte(e.id), Value: mustJSON(e.pay), Timestamp: time.UnixMilli(e.ts)}
	}
	return &kgo.Record{Topic: "orders", Key: []byte(e.id), Value: mustJSON(e.order), Timestamp: time.UnixMilli(e.ts)}
}

// opRound is an hour of input: its orders and the payment of its last order,
// the sentinel (phase a), then its other payments in time order (phase b).
type opRound struct {
	a, b     []opEvent
	sentinel string
}

// opRounds makes n rounds, an hour apart from base: 60 orders 2 s apart, each
// paid 0 to 3 times from 6 min before to 17 min after it (about half on a
// window's edge or 1 ms past it), and 6 payments of orders that do not exist.
//
// What makes the output a function of the input: phase b is written once both
// engines have joined the sentinel, so every order of the round has been read
// before its payments, and no order comes after them. When a payment is read,
// the join's stream time is at most the round's last payment, 17 min after its
// last order, 19 after its first, and each join's buffer of orders expires by
// the orders' time only: both joins still hold every order of the round, and
// the outer join still waits for them (15 + 5 min), so every pair is found and
// no order of a pair is written unpaid first. (A join's times are its own, in
// Kafka Streams and in gofka: with the task's, the outer join's payments running
// ahead of the inner join's would expire the inner join's orders.) Whatever
// joins nothing is written alone, by either engine, whenever it is read. The
// next round, an hour later, closes every window of this one.
func opRounds(rng *rand.Rand, base int64, n int) []opRound {
	edges := []int64{-opPayBefore - 1, -opPayBefore, -opSettleBefore - 1, -opSettleBefore, 0, opPayAfter, opPayAfter + 1, opSettleAfter, opSettleAfter + 1}
	payment := func(id, order string, ts int64) opEvent {
		return opEvent{payment: true, id: id, ts: ts,
			pay: opPayment{Order: order, AmountCents: 100 + rng.Int64N(10_000), Method: []string{"card", "transfer", "wallet"}[rng.IntN(3)]}}
	}
	var rounds []opRound
	for r := range n {
		var rd opRound
		start := base + int64(r)*3600_000
		for i := range 60 {
			o := opEvent{id: fmt.Sprintf("o%d-%02d", r, i), ts: start + int64(i)*2000,
				order: opOrder{Customer: fmt.Sprintf("c%d", rng.IntN(20)), AmountCents: 100 + rng.Int64N(10_000)}}
			rd.a = append(rd.a, o)
			for j := range rng.IntN(4) {
				off := rng.Int64N(23*60_000) - 6*60_000
				if rng.IntN(2) == 0 {
					off = edges[rng.IntN(len(edges))]
				}
				rd.b = append(rd.b, payment(fmt.Sprintf("p%d-%02d-%d", r, i, j), o.id, o.ts+off))
			}
		}
		last := rd.a[len(rd.a)-1]
		rd.sentinel = last.id
		rd.a = append(rd.a, payment(fmt.Sprintf("p%d-sentinel", r), last.id, last.ts))
		for j := range 6 {
			rd.b = append(rd.b, payment(fmt.Sprintf("p%d-orphan-%d", r, j), fmt.Sprintf("o%d-none-%d", r, j), start-6*60_000+rng.Int64N(25*60_000)))
		}
		slices.SortStableFunc(rd.b, func(x, y opEvent) int { return int(x.ts - y.ts) })
		rounds = append(rounds, rd)
	}
	return rounds
}

// opBruteForce is what the two joins write for evs: for each order and each
// payment of it within a join's window, the joined record at the later of the
// two times; for the outer join, each order and payment in no pair, alone at
// its own time.
func opBruteForce(evs []opEvent) (paid, reconciled []outRec) {
	settled := map[string]bool{} // payments in a pair
	rec := func(key string, v any, ts int64) outRec { return outRec{key, canonValue(mustJSON(v)), ts} }
	for _, o := range evs {
		if o.payment {
			continue
		}
		n := 0
		for _, p := range evs {
			if !p.payment || p.pay.Order != o.id {
				continue
			}
			if o.ts-opPayBefore <= p.ts && p.ts <= o.ts+opPayAfter {
				paid = append(paid, rec(o.id, opPaidOrder{o.order.Customer, o.order.AmountCents, p.pay.AmountCents, p.pay.Method}, max(o.ts, p.ts)))
			}
			if o.ts-opSettleBefore <= p.ts && p.ts <= o.ts+opSettleAfter {
				n++
				settled[p.id] = true
				reconciled = append(reconciled, rec(o.id, opReconciliation{"paid", o.order.Customer, o.order.AmountCents, p.pay.AmountCents}, max(o.ts, p.ts)))
			}
		}
		if n == 0 {
			reconciled = append(reconciled, rec(o.id, opReconciliation{"unpaid", o.order.Customer, o.order.AmountCents, 0}, o.ts))
		}
	}
	for _, p := range evs {
		if p.payment && !settled[p.id] {
			reconciled = append(reconciled, rec(p.pay.Order, opReconciliation{Status: "orphan", PaidCents: p.pay.AmountCents}, p.ts))
		}
	}
	return paid, reconciled
}

// orderPaymentsBesideKStreams: examples/orderpayments and OrderPayments on
// three rounds of opRounds, phase by phase, then an order two hours after the
// last round that closes its windows. Each output must be the same multiset
// of (key, value, timestamp) from both engines and the brute force's.
func orderPaymentsBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	j := startJoinPeers(ctx, t, peer, bin, "OrderPayments", []string{"orders", "payments"}, []string{opPaid, opReconciled},
		"--paid", "ks-"+opPaid, "--reconciled", "ks-"+opReconciled, "--join-emit-interval-ms", "0")
	base := time.Now().Add(-24 * time.Hour).Truncate(time.Hour).UnixMilli()
	rounds := opRounds(rand.New(rand.NewPCG(15, 6)), base, 3)
	count := func(rs []outRec, s string) int {
		n := 0
		for _, r := range rs {
			if strings.Contains(r.value, s) {
				n++
			}
		}
		return n
	}
	var evs []opEvent
	write := func(es []opEvent) {
		var recs []*kgo.Record
		for _, e := range es {
			recs = append(recs, e.record())
		}
		j.produce(recs...)
		evs = append(evs, es...)
	}
	for i, rd := range rounds {
		write(rd.a)
		// A record of the sentinel order: it has been read, and every order before it.
		for _, out := range []string{opPaid, opReconciled} {
			j.waitBoth(fmt.Sprintf("round %d: the sentinel in %s", i, out), out, func(rs []outRec) bool {
				return slices.ContainsFunc(rs, func(r outRec) bool { return r.key == rd.sentinel })
			})
		}
		write(rd.b)
		paid, reconciled := opBruteForce(evs)
		j.waitBoth(fmt.Sprintf("round %d: every paid order", i), opPaid, func(rs []outRec) bool { return len(rs) >= len(paid) })
		j.waitBoth(fmt.Sprintf("round %d: every settled order", i), opReconciled, func(rs []outRec) bool {
			return count(rs, `"status":"paid"`) >= count(reconciled, `"status":"paid"`)
		})
	}
	tick := opEvent{id: "tick", order: opOrder{Customer: "tick"}, ts: base + int64(len(rounds)+1)*3600_000}
	j.produce(tick.record())
	paid, reconciled := opBruteForce(evs)
	j.waitBoth("every reconciliation", opReconciled, func(rs []outRec) bool { return len(rs) >= len(reconciled) })

	for _, c := range []struct {
		topic string
		want  []outRec
	}{{opPaid, paid}, {opReconciled, reconciled}} {
		gofka, ks := j.read(c.topic), j.read("ks-"+c.topic)
		compareMultiset(t, c.topic+": gofka vs Kafka Streams", gofka, ks)
		compareMultiset(t, c.topic+": gofka vs the brute force", gofka, c.want)
		compareMultiset(t, c.topic+": Kafka Streams vs the brute force", ks, c.want)
	}
	t.Logf("orderpayments: %d orders and payments; %d paid orders, %d reconciliations (%d paid, %d unpaid, %d orphan) expected",
		len(evs), len(paid), len(reconciled), count(reconciled, `"status":"paid"`), count(reconciled, `"status":"unpaid"`), count(reconciled, `"status":"orphan"`))
}
