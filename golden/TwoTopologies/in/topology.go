// Package twotopologies holds two topologies, one in each form, that read the
// same topic: each becomes a program of its own.
package twotopologies

import "github.com/gofka/streams"

//gofka:topology
func OrderCount() (*streams.Topology, error) {
	builder := streams.NewBuilder()
	builder.Stream(streams.With(streams.String(), streams.Int64()), "orders").
		GroupByKey().
		Count(streams.InMemoryStore("orders-per-customer")).
		ToStream().
		To("order-counts")
	return builder.Build()
}

//gofka:topology
func BigOrders(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Int64()), "orders").
		Filter(func(customer string, cents int64) bool { return cents >= 10000 }).
		To("big-orders")
}
