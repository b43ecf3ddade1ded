// Package nullkeypassthrough checks that a record read with a null key keeps
// it through stateless steps to a sink, as Kafka Streams writes it (its
// serde writes null for null), so the producer spreads such records over the
// output's partitions instead of hashing an empty key to one; an empty key
// stays empty; before an aggregation a null key is dropped and counted.
package nullkeypassthrough

import (
	"strings"

	"github.com/gofka/streams"
)

func notBlank(_ string, v string) bool { return v != "" }

//gofka:topology
func PassThrough(b *streams.StreamsBuilder) {
	events := b.Stream(streams.With(streams.String(), streams.String()), "events")
	events.Filter(notBlank).MapValues(strings.ToUpper).To("upper")
	events.GroupByKey().Count(streams.InMemoryStore("counts")).ToStream().To("counts")
}
