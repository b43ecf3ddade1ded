package errserdemismatch

import "github.com/gofka/streams"

var serdes = streams.With(streams.String(), streams.Int64())

//gofka:topology
func Amounts(b *streams.StreamsBuilder) {
	amounts := b.Stream(streams.With(streams.String(), streams.Int64()), "amounts")
	// The records have int64 values, not strings.
	amounts.To("amounts-copy", streams.With(streams.String(), streams.String()))
	// Serdes must be written in place.
	b.Stream(serdes, "more-amounts").To("more-amounts-copy")
}
