package errfkjoin

import (
	"strings"
	"time"

	"github.com/gofka/streams"
)

func customerOf(v string) string { return strings.Split(v, "|")[1] }

func customerNumber(v string) int64 { return int64(len(v)) }

func customerOfInt(v int64) string { return "" }

func joinOrder(order, customer string) string { return order + customer }

func leftNotPointer(order, customer string) string { return order + customer }

func isLong(_ string, v string) bool { return len(v) > 3 }

//gofka:topology
func Joins(b *streams.StreamsBuilder) {
	orders := b.Table(streams.With(streams.String(), streams.String()), "orders", streams.InMemoryStore("orders"))
	customers := b.Table(streams.With(streams.String(), streams.String()), "customers", streams.InMemoryStore("customers"))
	orders.ForeignKeyJoin(customers, customerOfInt, joinOrder).ToStream().To("a")
	orders.ForeignKeyJoin(customers, customerNumber, joinOrder).ToStream().To("b")
	orders.ForeignKeyLeftJoin(customers, customerOf, leftNotPointer).ToStream().To("c")
	orders.ForeignKeyJoin(customers.Filter(isLong), customerOf, joinOrder).ToStream().To("d")
	orders.ForeignKeyJoin(customers, customerOf, joinOrder, streams.JoinWindows(time.Second, time.Second)).ToStream().To("e")
	orders.ForeignKeyJoin(customers, customerOf, joinOrder, streams.Named("same")).ToStream().To("f")
	orders.ForeignKeyJoin(customers, customerOf, joinOrder, streams.Named("same")).ToStream().To("g")
}
