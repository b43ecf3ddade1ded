// Package fkjoinnullforeignkeyleft ports shouldEmitRecordOnNullForeignKeyForLeftJoins
// and shouldEmitRecordWhenOldAndNewFkDiffer of Kafka Streams 3.9's
// KTableKTableForeignKeyJoinIntegrationTest (KIP-962), with their input and
// expected output: a left foreign-key join emits a left row whose foreign key
// is null joined with null, and a row whose foreign key becomes null leaves
// its old subscription. The right table is keyed by *string, so that the
// extractor can return nil.
package fkjoinnullforeignkeyleft

import (
	"strings"

	"github.com/gofka/streams"
)

func alwaysNull(string) *string { return nil }

// oldOrNull is the second "|" token, or nil when it is "returnNull".
func oldOrNull(v string) *string {
	fk := strings.Split(v, "|")[1]
	if fk == "returnNull" {
		return nil
	}
	return &fk
}

func leftJoiner(l string, r *string) string {
	if r == nil {
		return "(" + l + ",null)"
	}
	return "(" + l + "," + *r + ")"
}

// NullFK is shouldEmitRecordOnNullForeignKeyForLeftJoins.
//
//gofka:topology
func NullFK(b *streams.StreamsBuilder) {
	left := b.Table(streams.With(streams.String(), streams.String()), "null_left_table", streams.InMemoryStore("null-left"))
	right := b.Table(streams.With(streams.JSON[*string](), streams.String()), "null_right_table", streams.InMemoryStore("null-right"))
	left.ForeignKeyLeftJoin(right, alwaysNull, leftJoiner, streams.Named("null-fk")).ToStream().To("null_output")
}

// OldNewDiffer is shouldEmitRecordWhenOldAndNewFkDiffer.
//
//gofka:topology
func OldNewDiffer(b *streams.StreamsBuilder) {
	left := b.Table(streams.With(streams.String(), streams.String()), "differ_left_table", streams.InMemoryStore("differ-left"))
	right := b.Table(streams.With(streams.JSON[*string](), streams.String()), "differ_right_table", streams.InMemoryStore("differ-right"))
	left.ForeignKeyLeftJoin(right, oldOrNull, leftJoiner, streams.Named("differ-fk")).ToStream().To("differ_output")
}
