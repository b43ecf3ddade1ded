package errwritesowninput

import (
	"strings"

	"github.com/gofka/streams"
)

// Writing to a topic the topology reads feeds every record back in: a loop
// through Kafka.
//
//gofka:topology
func Echo(b *streams.StreamsBuilder) {
	words := b.Stream(streams.With(streams.String(), streams.String()), "words", "more-words")
	words.MapValues(strings.ToUpper).To("more-words")
	words.To("copies")
	b.Table(streams.With(streams.String(), streams.Int64()), "prices", streams.InMemoryStore("prices")).
		ToStream().
		To("prices")
}
