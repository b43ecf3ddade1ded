package errfkjoingroupby

import (
	"strings"

	"github.com/gofka/streams"
)

func customerOf(v string) string { return strings.Split(v, "|")[1] }

func joinOrder(order, customer string) string { return order + customer }

func byCustomer(_ string, v string) (string, string) { return v, v }

//gofka:topology
func Joins(b *streams.StreamsBuilder) {
	orders := b.Table(streams.With(streams.String(), streams.String()), "orders", streams.InMemoryStore("orders"))
	customers := b.Table(streams.With(streams.String(), streams.String()), "customers", streams.InMemoryStore("customers"))
	orders.ForeignKeyJoin(customers, customerOf, joinOrder).GroupBy(byCustomer).Count(streams.InMemoryStore("per-customer")).ToStream().To("counts")
}
