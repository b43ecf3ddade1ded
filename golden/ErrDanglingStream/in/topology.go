package errdanglingstream

import "github.com/gofka/streams"

func isLarge(id string, amount int64) bool { return amount >= 100 }

func isSmall(id string, amount int64) bool { return amount < 10 }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	orders := b.Stream(streams.With(streams.String(), streams.Int64()), "orders")
	// This filtered stream is built and then dropped.
	orders.Filter(isLarge)
	// Only the first branch is used.
	parts := orders.Branch(isLarge, isSmall)
	parts[0].To("large-orders")
	// A grouping with no aggregation.
	orders.GroupByKey()
}
