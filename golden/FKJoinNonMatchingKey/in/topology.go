// Package fkjoinnonmatchingkey ports joinShouldProduceNullsWhenValueHasNonMatchingForeignKey of
// Kafka Streams' KTableKTableForeignKeyJoinIntegrationTest, with its input
// and expected output: left rows "value|fk" joined on fk with the right
// table, by an inner and a left foreign-key join (input.txt says what each
// step shows).
package fkjoinnonmatchingkey

import (
	"strings"

	"github.com/gofka/streams"
)

func extractor(v string) string { return strings.Split(v, "|")[1] }

func joiner(l, r string) string { return "(" + l + "," + r + ")" }

func leftJoiner(l string, r *string) string {
	if r == nil {
		return "(" + l + ",null)"
	}
	return "(" + l + "," + *r + ")"
}

//gofka:topology
func FKJoins(b *streams.StreamsBuilder) {
	left := b.Table(streams.With(streams.String(), streams.String()), "left_table", streams.InMemoryStore("left"))
	right := b.Table(streams.With(streams.String(), streams.String()), "right_table", streams.RocksDBStore("right"))
	left.ForeignKeyJoin(right, extractor, joiner).ToStream().To("inner")
	left.ForeignKeyLeftJoin(right, extractor, leftJoiner, streams.Named("fk-left")).ToStream().To("left")
}
