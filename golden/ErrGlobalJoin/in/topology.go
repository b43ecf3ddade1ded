// Package errglobaljoin makes every mistake a global join can make: a key
// selector of the wrong signature, one that gives a key of another type than
// the table's, joiners of the wrong signature (a left join's joiner takes a
// pointer to the row, nil when there is none), and an option.
package errglobaljoin

import "github.com/gofka/streams"

type Order struct {
	Product int64
	Qty     int
}

type Product struct{ Name string }

func productOf(id string, o Order) string { return "" }

func productNumber(id string, o Order) int64 { return o.Product }

func productOfValue(o Order) string { return "" }

func name(o Order, p Product) string { return p.Name }

func nameOrNone(o Order, p *Product) string { return "" }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	products := b.GlobalTable(streams.With(streams.String(), streams.JSON[Product]()), "products", streams.RocksDBStore("products"))
	orders := b.Stream(streams.With(streams.String(), streams.JSON[Order]()), "orders")
	orders.JoinGlobal(products, productOfValue, name).To("a")
	orders.JoinGlobal(products, productNumber, name).To("b")
	orders.JoinGlobal(products, productOf, nameOrNone).To("c")
	orders.LeftJoinGlobal(products, productOf, name).To("d")
	orders.JoinGlobal(products, productOf, name, streams.Named("x")).To("e")
	orders.LeftJoinGlobal(products, productOf, nameOrNone).To("f")
}
