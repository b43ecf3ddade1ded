// Package seedforeignfuncs uses the seed API in the builder form of a topology:
// Filter given bytes.Equal, a function of another package; and a GroupByKey with
// no Map before it, which needs no repartition, into an Aggregate.
package seedforeignfuncs

import (
	"bytes"

	"github.com/gofka/streams"
)

func emptyLog() []byte { return nil }

// appendEvent joins the events of a key with "|".
func appendEvent(log, event []byte) []byte {
	out := bytes.Clone(log)
	if len(out) > 0 {
		out = append(out, '|')
	}
	return append(out, event...)
}

//gofka:topology
func Events(b *streams.StreamsBuilder) {
	b.From("pairs").Filter(bytes.Equal).To("equal-pairs")
	b.From("events").
		GroupByKey().
		Aggregate(emptyLog, appendEvent, streams.RocksDBStore("event-log")).
		To("event-logs")
}
