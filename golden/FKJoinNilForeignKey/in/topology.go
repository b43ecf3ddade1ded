// Package fkjoinnilforeignkey joins on a foreign key that may be absent: the
// right table is keyed by a pointer type, and an order without a customer has
// a nil foreign key. As in Kafka Streams 3.7+ (KIP-962), the inner join drops
// such an order (counted as a null key) and deletes its earlier result, and
// the left join keeps it, joined with nil.
package fkjoinnilforeignkey

import "github.com/gofka/streams"

// CustomerID keys the customers table (JSON).
type CustomerID struct {
	ID string `json:"id"`
}

// Order refers to its customer, if any.
type Order struct {
	Customer *CustomerID `json:"customer"`
	Item     string      `json:"item"`
}

func customerOf(o Order) *CustomerID { return o.Customer }

func joiner(o Order, name string) string { return o.Item + "@" + name }

func leftJoiner(o Order, name *string) string {
	if name == nil {
		return o.Item + "@-"
	}
	return o.Item + "@" + *name
}

//gofka:topology
func NilKeys(b *streams.StreamsBuilder) {
	orders := b.Table(streams.With(streams.String(), streams.JSON[Order]()), "orders", streams.InMemoryStore("orders"))
	customers := b.Table(streams.With(streams.JSON[*CustomerID](), streams.String()), "customers", streams.InMemoryStore("customers"))
	orders.ForeignKeyJoin(customers, customerOf, joiner).ToStream().To("joined")
	orders.ForeignKeyLeftJoin(customers, customerOf, leftJoiner).ToStream().To("left-joined")
}
