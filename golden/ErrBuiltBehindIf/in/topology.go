package errbuiltbehindif

import (
	"os"

	"github.com/gofka/streams"
)

func notEmpty(k, v string) bool { return v != "" }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	orders := b.Stream(streams.With(streams.String(), streams.String()), "orders")
	if os.Getenv("SKIP_EMPTY") != "" {
		orders.Filter(notEmpty).To("clean-orders")
	}
	orders.To("all-orders")
}
