// Command fkjoin keeps every order joined with the customer who placed it, as
// both tables change: a foreign-key table-table join (Kafka Streams'
// KTable.join(other, foreignKeyExtractor, joiner), KIP-213). The orders table is
// keyed by order id and refers to its customer by id; the customers table is
// keyed by customer id, so the two are neither keyed nor partitioned alike.
//
//	orders (key: order id, value: JSON Order; a nil value deletes the order)
//	  │ Table into store "orders"
//	  ├─ ForeignKeyLeftJoin(customers, customerOf, details) ─▶ order-details   (key: order id, value: JSON OrderDetails; nil: a delete)
//	  └─ ForeignKeyJoin(customers, customerOf, placed)      ─▶ placed-orders   (key: order id, value: JSON OrderDetails; nil: a delete)
//	customers (key: customer id, value: JSON Customer; a nil value deletes the customer)
//	  │ Table into store "customers"
//
// Each join sends an order's subscription to the task owning its customer
// (topic "<app>-<join>-subscription-repartition", partitioned like customers),
// which keeps it in the store "<join>-subscription-store" and answers with the
// customer row through "<app>-<join>-response-repartition" (partitioned like
// orders). When an order moves to another customer, its old subscription is
// removed; when a customer changes, every order of the customer is joined
// again; when a customer is deleted, its orders leave placed-orders and stay
// in order-details without a name. An order without a customer (an empty
// one: a null foreign key) subscribes to nothing: it is in order-details
// without a name and not in placed-orders.
//
// # Running it
//
//	go generate && go build && ./fkjoin
//
// With no --brokers the binary starts an embedded broker on 127.0.0.1:9092:
//
//	printf '%s\n' 'c1|{"name":"Ann","region":"north"}' | kcat -P -b 127.0.0.1:9092 -t customers -K '|'
//	printf '%s\n' 'o1|{"customer":"c1","amount_cents":1250}' 'o2|{"customer":"c9","amount_cents":99}' |
//		kcat -P -b 127.0.0.1:9092 -t orders -K '|'
//	kcat -C -b 127.0.0.1:9092 -t order-details -e -f '%k %s\n'
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import "github.com/gofka/streams"

// Customer is a row of the customers table.
type Customer struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Order is a row of the orders table: it refers to its customer by id.
type Order struct {
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents"`
}

// OrderDetails is an order with its customer's current name and region
// (empty when the customer is unknown).
type OrderDetails struct {
	Order       string `json:"order"`
	Customer    string `json:"customer"`
	Name        string `json:"name"`
	Region      string `json:"region"`
	AmountCents int64  `json:"amount_cents"`
}

// customerOf is the foreign key: the order's customer id; nil for an order
// without one (an empty customer), which the left join joins with no customer
// and the inner join drops, as Kafka Streams 3.7+ does with a null foreign key.
func customerOf(o Order) *string {
	if o.Customer == "" {
		return nil
	}
	return &o.Customer
}

// details joins an order with its customer, if the customer is known.
func details(id string, o Order, c *Customer) OrderDetails {
	d := OrderDetails{Order: id, Customer: o.Customer, AmountCents: o.AmountCents}
	if c != nil {
		d.Name, d.Region = c.Name, c.Region
	}
	return d
}

// placed joins an order with its (known) customer.
func placed(id string, o Order, c Customer) OrderDetails { return details(id, o, &c) }

// FKJoin joins orders with their customers, by a left and an inner foreign-key join.
//
//gofka:topology
func FKJoin(b *streams.StreamsBuilder) {
	orders := b.Table(streams.With(streams.String(), streams.JSON[Order]()), "orders", streams.RocksDBStore("orders"))
	customers := b.Table(streams.With(streams.String(), streams.JSON[Customer]()), "customers", streams.RocksDBStore("customers"))
	orders.ForeignKeyLeftJoin(customers, customerOf, details, streams.Named("order-details")).
		ToStream().
		To("order-details")
	orders.ForeignKeyJoin(customers, customerOf, placed, streams.Named("placed-orders")).
		ToStream().
		To("placed-orders")
}
