// Package streamjoininner joins orders with payments of the same order id
// within 2 ms either way (the driver gives the records consecutive
// milliseconds). Payments are keyed by payment id at their source and re-keyed
// by order id, so the join reads them through a repartition topic.
package streamjoininner

import (
	"time"

	"github.com/gofka/streams"
)

// byOrder re-keys a payment ("order:amount") by its order id.
func byOrder(payment, body string) string {
	for i := range len(body) {
		if body[i] == ':' {
			return body[:i]
		}
	}
	return body
}

// paid pairs an order's item with a payment.
func paid(order string, item, payment string) string {
	return order + ": " + item + " paid by " + payment
}

//gofka:topology
func StreamJoinInner(b *streams.StreamsBuilder) {
	orders := b.Stream(streams.With(streams.String(), streams.String()), "orders")
	payments := b.Stream(streams.With(streams.String(), streams.String()), "payments").SelectKey(byOrder)
	orders.Join(payments, paid, streams.JoinWindowsOf(2*time.Millisecond), streams.Named("orders-payments")).
		To("paid-orders")
}
