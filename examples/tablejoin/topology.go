// Command tablejoin enriches orders with the customer who placed them, and
// keeps the number of customers per region up to date as customers move or
// leave: a stream-table join and a table aggregation with a subtractor.
//
//	customers (key: customer id, value: JSON Customer; a nil value deletes the customer)
//	  │ Table into store "customers"
//	  ├─ GroupBy(regionOf) ══ repartition (old row: subtract, new row: add) ══▶ Count ─▶ customers-per-region (key: region, value: int64)
//	  │
//	orders (key: order id, value: JSON Order)
//	  ├─ MapValues(withOrderID) ─ SelectKey(customerOf) ══ repartition by customer ══▶ LeftJoin(customers, enrich) ─▶ enriched-orders (key: customer id, value: JSON EnrichedOrder)
//
// An order whose customer is unknown (not yet, or no longer, in the table) is
// still enriched, with an empty name and region "unknown": LeftJoin hands enrich
// a nil *Customer. A customer record without a key is dropped and counted
// (gofka_dropped_records_total{reason="null-key"}).
//
// # Running it
//
//	go generate && go build && ./tablejoin
//
// With no --brokers the binary starts an embedded broker on 127.0.0.1:9092:
//
//	printf '%s\n' 'c1|{"name":"Ann","region":"north"}' 'c2|{"name":"Bob","region":"south"}' |
//		kcat -P -b 127.0.0.1:9092 -t customers -K '|'
//	printf '%s\n' 'o1|{"customer":"c1","amount_cents":1250}' 'o2|{"customer":"c9","amount_cents":99}' |
//		kcat -P -b 127.0.0.1:9092 -t orders -K '|'
//	kcat -C -b 127.0.0.1:9092 -t enriched-orders -e -f '%k %s\n'
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import "github.com/gofka/streams"

// Customer is a row of the customers table.
type Customer struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Order is an order placed by a customer.
type Order struct {
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents"`
}

// EnrichedOrder is an order with its customer's name and region at the time
// the order was processed.
type EnrichedOrder struct {
	Order       string `json:"order"`
	Customer    string `json:"customer"`
	Name        string `json:"name"`
	Region      string `json:"region"`
	AmountCents int64  `json:"amount_cents"`
}

// withOrderID starts an order's enrichment while its key is still the order id.
func withOrderID(id string, o Order) EnrichedOrder {
	return EnrichedOrder{Order: id, Customer: o.Customer, Region: "unknown", AmountCents: o.AmountCents}
}

// customerOf keys an order by its customer.
func customerOf(_ string, e EnrichedOrder) string { return e.Customer }

// enrich adds the customer's name and region, when the customer is known.
func enrich(e EnrichedOrder, c *Customer) EnrichedOrder {
	if c != nil {
		e.Name, e.Region = c.Name, c.Region
	}
	return e
}

// regionOf groups customers by region; the value is not used by Count.
func regionOf(_ string, c Customer) (string, string) { return c.Region, c.Name }

// TableJoin enriches orders with customers and counts customers per region.
//
//gofka:topology
func TableJoin(b *streams.StreamsBuilder) {
	customers := b.Table(streams.With(streams.String(), streams.JSON[Customer]()), "customers", streams.RocksDBStore("customers"))
	customers.GroupBy(regionOf).
		Count(streams.RocksDBStore("customers-per-region")).
		ToStream().
		To("customers-per-region")
	b.Stream(streams.With(streams.String(), streams.JSON[Order]()), "orders").
		MapValues(withOrderID).
		SelectKey(customerOf).
		LeftJoin(customers, enrich).
		To("enriched-orders")
}
