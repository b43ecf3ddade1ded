package errbranchindex

import "github.com/gofka/streams"

func isLarge(id string, amount int64) bool { return amount >= 100 }

func isSmall(id string, amount int64) bool { return amount < 10 }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	parts := b.Stream(streams.With(streams.String(), streams.Int64()), "orders").Branch(isLarge, isSmall)
	i := 1
	parts[0].To("large-orders")
	parts[i].To("small-orders")
	parts[2].To("other-orders")
}
