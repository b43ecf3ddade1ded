// Package kafkarelaxednullkeyjoins ports Kafka Streams' RelaxedNullKeyRequirementJoinTest
// (KIP-962, Kafka Streams 3.7+) and the null-key cases of its
// KStreamGlobalKTableLeftJoinTest: a left or outer join keeps a record with a
// null key, joined at once with null for the side it cannot meet, even after
// a repartition; a repartition with no such join downstream drops it.
package kafkarelaxednullkeyjoins

import (
	"strings"
	"time"

	"github.com/gofka/streams"
)

func or(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func leftJoiner(lv string, rv *string) string   { return lv + "|" + or(rv) }
func outerJoiner(lv, rv *string) string         { return or(lv) + "|" + or(rv) }
func globalJoiner(lv string, rv *string) string { return lv + "+" + or(rv) }

// foreignKey is the second comma-separated token of the value, if any: the
// global table's key; nil when there is none.
func foreignKey(_ string, v string) *string {
	tokens := strings.Split(v, ",")
	if len(tokens) < 2 {
		return nil
	}
	return &tokens[1]
}

// LeftStreamStream is testRelaxedLeftStreamStreamJoin.
//
//gofka:topology
func LeftStreamStream(b *streams.StreamsBuilder) {
	left := b.Stream(streams.With(streams.String(), streams.String()), "ss-left").Repartition()
	right := b.Stream(streams.With(streams.String(), streams.String()), "ss-right").Repartition()
	left.LeftJoin(right, leftJoiner, streams.JoinWindows(60*time.Second, 60*time.Second).Grace(10*time.Second)).To("ss-out")
}

// LeftStreamTable is testRelaxedLeftStreamTableJoin.
//
//gofka:topology
func LeftStreamTable(b *streams.StreamsBuilder) {
	right := b.Stream(streams.With(streams.String(), streams.String()), "st-right").Repartition().ToTable(streams.InMemoryStore("st-right"))
	b.Stream(streams.With(streams.String(), streams.String()), "st-left").Repartition().LeftJoin(right, leftJoiner).To("st-out")
}

// OuterStreamStream is testRelaxedOuterStreamStreamJoin.
//
//gofka:topology
func OuterStreamStream(b *streams.StreamsBuilder) {
	left := b.Stream(streams.With(streams.String(), streams.String()), "oj-left").Repartition()
	right := b.Stream(streams.With(streams.String(), streams.String()), "oj-right").Repartition()
	left.OuterJoin(right, outerJoiner, streams.JoinWindows(60*time.Second, 60*time.Second).Grace(10*time.Second)).To("oj-out")
}

// LeftStreamGlobal is testRelaxedLeftStreamGlobalTableJoin, with the key
// selector of KStreamGlobalKTableLeftJoinTest.
//
//gofka:topology
func LeftStreamGlobal(b *streams.StreamsBuilder) {
	global := b.GlobalTable(streams.With(streams.JSON[*string](), streams.String()), "global", streams.InMemoryStore("global"))
	b.Stream(streams.With(streams.String(), streams.String()), "gl-left").Repartition().LeftJoinGlobal(global, foreignKey, globalJoiner).To("gl-out")
}

// RepartitionOnly is testDropNullKeyRecordsForRepartitionNodesWithNoRelaxedJoinDownstream.
//
//gofka:topology
func RepartitionOnly(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "rp-left").Repartition().To("rp-out")
}
