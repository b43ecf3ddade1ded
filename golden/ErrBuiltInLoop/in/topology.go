package errbuiltinloop

import "github.com/gofka/streams"

//gofka:topology
func Copies(b *streams.StreamsBuilder) {
	for _, topic := range []string{"eu-orders", "us-orders"} {
		b.Stream(streams.With(streams.String(), streams.String()), topic).To("all-orders")
	}
}
