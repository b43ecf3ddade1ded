// Package globaljoin joins a stream of orders with a global table of products,
// by a product id taken from the order's value: an inner join (orders of
// unknown products are dropped) and a left join (they pass with no product).
// The stream's key, the order id, is kept, so nothing is repartitioned.
package globaljoin

import (
	"fmt"

	"github.com/gofka/streams"
)

type Order struct {
	Product string `json:"product"`
	Qty     int    `json:"qty"`
}

type Product struct {
	Name  string `json:"name"`
	Price int    `json:"price"`
}

func productOf(orderID string, o Order) string { return o.Product }

func line(o Order, p Product) string {
	return fmt.Sprintf("%d x %s = %d", o.Qty, p.Name, o.Qty*p.Price)
}

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	products := b.GlobalTable(streams.With(streams.String(), streams.JSON[Product]()), "products", streams.RocksDBStore("products"))
	orders := b.Stream(streams.With(streams.String(), streams.JSON[Order]()), "orders")
	orders.JoinGlobal(products, productOf, line).To("order-lines")
	orders.LeftJoinGlobal(products, productOf, func(id string, o Order, p *Product) string {
		if p == nil {
			return id + ": unknown product " + o.Product
		}
		return id + ": " + p.Name
	}).To("order-names")
}
