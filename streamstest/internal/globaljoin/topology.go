// Package globaljoin holds the topologies of Kafka Streams'
// KStreamGlobalKTableJoinTest and KStreamGlobalKTableLeftJoinTest, whose
// scenarios globaljoin_test.go runs through streamstest: a stream of int32 keys
// and string values "X0,FKey0" joined with a global table of string keys and
// values, by the key after the comma.
package globaljoin

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"strings"

	"github.com/gofka/streams"
)

// foreignKey is the tests' key mapper: the second comma-separated token of the
// value. Kafka Streams' returns null without one; a Go string has no null, and
// "" names no row of the table, which joins nothing as null does.
func foreignKey(_ int32, value string) string {
	if tokens := strings.Split(value, ","); len(tokens) > 1 {
		return tokens[1]
	}
	return ""
}

// joined is MockValueJoiner.TOSTRING_JOINER: value1 + "+" + value2.
func joined(value, row string) string { return value + "+" + row }

// leftJoined is the same with a missing row printed as Java prints null.
func leftJoined(value string, row *string) string {
	if row == nil {
		return value + "+null"
	}
	return value + "+" + *row
}

//gofka:topology
func Join(b *streams.StreamsBuilder) {
	table := b.GlobalTable(streams.With(streams.String(), streams.String()), "globalTableTopic", streams.InMemoryStore("global-table"))
	b.Stream(streams.With(streams.Int32(), streams.String()), "streamTopic").
		JoinGlobal(table, foreignKey, joined).
		To("output")
}

//gofka:topology
func LeftJoin(b *streams.StreamsBuilder) {
	table := b.GlobalTable(streams.With(streams.String(), streams.String()), "globalTableTopic", streams.RocksDBStore("global-table"))
	b.Stream(streams.With(streams.Int32(), streams.String()), "streamTopic").
		LeftJoinGlobal(table, foreignKey, leftJoined).
		To("output")
}
