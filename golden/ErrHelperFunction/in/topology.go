package errhelperfunction

import "github.com/gofka/streams"

func notEmpty(k, v string) bool { return v != "" }

// cleaned builds part of the topology in a helper, which gofkagen does not follow.
func cleaned(b *streams.StreamsBuilder, topic string) *streams.KStream {
	return b.Stream(streams.With(streams.String(), streams.String()), topic).Filter(notEmpty)
}

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	cleaned(b, "orders").To("clean-orders")
}
