// Command orderpayments matches a shop's orders with the payments made for
// them, two ways, with two windowed stream-stream joins on the same streams:
//
//	orders (key: order id, value: JSON Order)
//	  │                      payments (key: payment id, value: JSON Payment)
//	  │                        └─ SelectKey(byOrder): key = the order paid
//	  │                             ▼ repartition topics order-payments-right-repartition,
//	  │                               order-reconciliation-right-repartition
//	  ├─ Join(JoinWindows(5*time.Minute, time.Minute).Grace(30*time.Second)) ◀────────┤
//	  │    stores order-payments-this, -other (changelogged)                          │
//	  │    ▼ paid-orders (key: order id, value: JSON PaidOrder)                       │
//	  └─ OuterJoin(JoinWindows(2*time.Minute, 15*time.Minute).Grace(5*time.Minute)) ◀─┘
//	       stores order-reconciliation-this, -other, -outer (changelogged)
//	       ▼ reconciliation (key: order id, value: JSON Reconciliation)
//
// Paid orders (the inner Join): a payment pays for an order when it was made
// at most five minutes before it (the card is authorized at checkout, before
// the order is confirmed) or at most a minute after; one record per such pair,
// as soon as the second of the two is read.
//
// Reconciliation (the OuterJoin): a payment settles an order when it was made
// from two minutes before it to fifteen minutes after; every pair is written
// as "paid", and an order no payment settles ("unpaid") or a payment that
// settles no order ("orphan") is written alone once its window has closed by
// stream time (an order's 15 + 5 minutes of grace after it, a payment's 2 + 5
// minutes).
//
// A record joined with a payment takes the later of the two timestamps; an
// unpaid order or an orphan payment its own. The orders topic and the
// repartition topics are co-partitioned: the runtime sizes the repartition
// topics as the orders topic and checks, at start-up, that they have as many
// partitions.
//
// # Running it
//
//	go generate && go build && ./orderpayments
//
// The joins' semantics, Kafka Streams 3.x's, are in the README ("Stream-stream
// joins"); the test beside Kafka Streams 3.9.1 in test/e2e/joins_peer_streams_test.go.
package main

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

// Order is an order placed by a customer.
type Order struct {
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents"`
}

// Payment is a payment for the order it names.
type Payment struct {
	Order       string `json:"order"`
	AmountCents int64  `json:"amount_cents"`
	Method      string `json:"method"`
}

// PaidOrder is an order with one payment made for it.
type PaidOrder struct {
	Customer   string `json:"customer"`
	OrderCents int64  `json:"order_cents"`
	PaidCents  int64  `json:"paid_cents"`
	Method     string `json:"method"`
}

// Reconciliation is an order with a payment that settles it ("paid"), an
// order without one ("unpaid") or a payment without an order ("orphan"); the
// absent side's fields are empty.
type Reconciliation struct {
	Status     string `json:"status"`
	Customer   string `json:"customer"`
	OrderCents int64  `json:"order_cents"`
	PaidCents  int64  `json:"paid_cents"`
}

// byOrder keys a payment by the order it pays.
func byOrder(payment string, p Payment) string { return p.Order }

// pay is the inner join's joiner.
func pay(o Order, p Payment) PaidOrder {
	return PaidOrder{Customer: o.Customer, OrderCents: o.AmountCents, PaidCents: p.AmountCents, Method: p.Method}
}

// reconcile is the outer join's joiner: o or p is nil when nothing joined it.
func reconcile(o *Order, p *Payment) Reconciliation {
	switch {
	case p == nil:
		return Reconciliation{Status: "unpaid", Customer: o.Customer, OrderCents: o.AmountCents}
	case o == nil:
		return Reconciliation{Status: "orphan", PaidCents: p.AmountCents}
	}
	return Reconciliation{Status: "paid", Customer: o.Customer, OrderCents: o.AmountCents, PaidCents: p.AmountCents}
}

//gofka:topology
func OrderPayments(b *streams.StreamsBuilder) {
	orders := b.Stream(streams.With(streams.String(), streams.JSON[Order]()), "orders")
	payments := b.Stream(streams.With(streams.String(), streams.JSON[Payment]()), "payments").SelectKey(byOrder)
	orders.Join(payments, pay,
		streams.JoinWindows(5*time.Minute, time.Minute).Grace(30*time.Second), streams.Named("order-payments")).
		To("paid-orders")
	orders.OuterJoin(payments, reconcile,
		streams.JoinWindows(2*time.Minute, 15*time.Minute).Grace(5*time.Minute), streams.Named("order-reconciliation")).
		To("reconciliation")
}
