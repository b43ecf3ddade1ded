package errlocalfuncvar

import "github.com/gofka/streams"

func isLarge(id string, amount int64) bool { return amount >= 100 }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	keep := isLarge
	b.Stream(streams.With(streams.String(), streams.Int64()), "orders").
		Filter(keep).
		To("large-orders")
}
