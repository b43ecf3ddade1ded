// Command orderenrich enriches orders with the products they buy: a stream of
// orders joined with a global table of products, by the product id each order
// carries in its value.
//
//	products (key: product id, value: JSON Product) ══ global table "products" ══╗
//	  read whole by every replica into RocksDB before any order is processed,   ║
//	  and kept up to date while the replica runs                                ║
//	                                                                            ║ lookup by productID(order)
//	orders (key: order id, value: JSON Order)                                   ║
//	  ├─ JoinGlobal(products, productID, enrich) ═══════════════════════════════╣─▶ enriched-orders (key: order id, value: JSON EnrichedOrder)
//	  └─ LeftJoinGlobal(products, productID, missing) ══════════════════════════╝
//	       └─ Filter(isMissing) ─▶ orders-without-product (key: order id, value: JSON EnrichedOrder)
//
// The orders keep their key, the order id: a global table answers a lookup by
// any key on every replica, so nothing is repartitioned, whatever partition
// the order and its product came from. The products topic is the table's
// changelog; each replica records how far it read it next to its RocksDB copy,
// so after a restart it reads only what was written since.
//
// # Running it
//
//	go generate && go build && ./orderenrich
//
// With no --brokers the binary starts an embedded broker on 127.0.0.1:9092:
//
//	printf '%s\n' 'p1|{"id":"p1","name":"pen","price_cents":150}' | kcat -P -b 127.0.0.1:9092 -t products -K '|'
//	printf '%s\n' 'o1|{"id":"o1","product_id":"p1","quantity":3}' 'o2|{"id":"o2","product_id":"p9","quantity":1}' |
//		kcat -P -b 127.0.0.1:9092 -t orders -K '|'
//	kcat -C -b 127.0.0.1:9092 -t enriched-orders -e -f '%k %s\n'
//	kcat -C -b 127.0.0.1:9092 -t orders-without-product -e -f '%k %s\n'
//
// o1 is enriched with the pen (total 450 cents); o2 names no known product.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"github.com/gofka/streams"
)

// Order is one order of a quantity of one product.
type Order struct {
	ID        string `json:"id"`
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// Product is one row of the product catalogue.
type Product struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
}

// EnrichedOrder is an order with what it buys.
type EnrichedOrder struct {
	OrderID     string `json:"order_id"`
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name,omitempty"`
	Quantity    int64  `json:"quantity"`
	TotalCents  int64  `json:"total_cents"`
	Known       bool   `json:"known"` // the product was in the table
}

// productID is the key of the order's product in the global table.
func productID(orderID string, o Order) string { return o.ProductID }

// enrich joins an order with its product.
func enrich(o Order, p Product) EnrichedOrder {
	return EnrichedOrder{OrderID: o.ID, ProductID: o.ProductID, ProductName: p.Name, Quantity: o.Quantity,
		TotalCents: o.Quantity * p.PriceCents, Known: true}
}

// missing is the left join's joiner: p is nil when the table has no such product.
func missing(o Order, p *Product) EnrichedOrder {
	if p == nil {
		return EnrichedOrder{OrderID: o.ID, ProductID: o.ProductID, Quantity: o.Quantity}
	}
	return enrich(o, *p)
}

func isMissing(orderID string, e EnrichedOrder) bool { return !e.Known }

//gofka:topology
func OrderEnrich(b *streams.StreamsBuilder) {
	products := b.GlobalTable(streams.With(streams.String(), streams.JSON[Product]()), "products", streams.RocksDBStore("products"))
	orders := b.Stream(streams.With(streams.String(), streams.JSON[Order]()), "orders")
	orders.JoinGlobal(products, productID, enrich).To("enriched-orders")
	orders.LeftJoinGlobal(products, productID, missing).
		Filter(isMissing).
		To("orders-without-product")
}
