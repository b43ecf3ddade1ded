// Package tablemapvalues ports Kafka Streams' KTableMapValuesTest.testKTable:
// a table's values mapped to the digit they start with. A delete stays a
// delete, and the mapped table is not materialized.
package tablemapvalues

import "github.com/gofka/streams"

func firstDigit(v string) int64 { return int64(v[0] - '0') }

//gofka:topology
func Digits(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.String()), "topic1", streams.InMemoryStore("topic1-store")).
		MapValues(firstDigit).
		ToStream().
		To("digits")
}
