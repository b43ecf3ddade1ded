// Package joinports holds the topologies of the scenarios ported from Kafka
// Streams' KStreamKStreamJoinTest, KStreamKStreamLeftJoinTest and
// KStreamKStreamOuterJoinTest (joinports_test.go): topic1 (int32 keys, string
// values) joined with topic2 (string values, or int64 for the outer joins) into
// out, with the tests' MockValueJoiner.TOSTRING_JOINER ("left+right", "null"
// for an absent side) and their windows.
package joinports

import (
	"strconv"
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

func toString(v1, v2 string) string { return v1 + "+" + v2 }

func toStringLeft(v1 string, v2 *string) string {
	if v2 == nil {
		return v1 + "+null"
	}
	return v1 + "+" + *v2
}

func toStringOuter(v1 *string, v2 *int64) string {
	l, r := "null", "null"
	if v1 != nil {
		l = *v1
	}
	if v2 != nil {
		r = strconv.FormatInt(*v2, 10)
	}
	return l + "+" + r
}

// Inner100 is KStreamKStreamJoinTest's join: JoinWindows.ofTimeDifferenceWithNoGrace(100ms).
//
//gofka:topology
func Inner100(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic2")
	s1.Join(s2, toString, streams.JoinWindowsOf(100*time.Millisecond)).To("out")
}

// Left100 is a left join over JoinWindows.ofTimeDifferenceAndGrace(100ms, 0).
//
//gofka:topology
func Left100(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic2")
	s1.LeftJoin(s2, toStringLeft, streams.JoinWindowsOf(100*time.Millisecond)).To("out")
}

// LeftGrace is a left join over JoinWindows.ofTimeDifferenceAndGrace(100ms, 10ms).
//
//gofka:topology
func LeftGrace(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic2")
	s1.LeftJoin(s2, toStringLeft, streams.JoinWindowsOf(100*time.Millisecond).Grace(10*time.Millisecond)).To("out")
}

// Outer100 is an outer join over JoinWindows.ofTimeDifferenceWithNoGrace(100ms).
//
//gofka:topology
func Outer100(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.Int64()), "topic2")
	s1.OuterJoin(s2, toStringOuter, streams.JoinWindowsOf(100*time.Millisecond)).To("out")
}

// OuterGrace is an outer join over JoinWindows.ofTimeDifferenceAndGrace(100ms, 10ms).
//
//gofka:topology
func OuterGrace(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.Int64()), "topic2")
	s1.OuterJoin(s2, toStringOuter, streams.JoinWindowsOf(100*time.Millisecond).Grace(10*time.Millisecond)).To("out")
}

// OuterAsymmetric is an outer join over
// JoinWindows.ofTimeDifferenceWithNoGrace(5ms).after(20ms): a left record's
// window closes 20 ms after it, a right record's 5 ms after it.
//
//gofka:topology
func OuterAsymmetric(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1")
	s2 := b.Stream(streams.With(streams.Int32(), streams.Int64()), "topic2")
	s1.OuterJoin(s2, toStringOuter, streams.JoinWindows(5*time.Millisecond, 20*time.Millisecond)).To("out")
}

// kept drops the records valued "skip" before a join.
func kept(k int32, v string) bool { return v != "skip" }

// InnerFiltered is Inner100 with a filter before the left side: what it drops
// never reaches the join, so it moves neither the join's stream time nor its
// buffers'.
//
//gofka:topology
func InnerFiltered(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1").Filter(kept)
	s2 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic2")
	s1.Join(s2, toString, streams.JoinWindowsOf(100*time.Millisecond)).To("out")
}

// OuterFiltered is Outer100 with a filter before the left side.
//
//gofka:topology
func OuterFiltered(b *streams.StreamsBuilder) {
	s1 := b.Stream(streams.With(streams.Int32(), streams.String()), "topic1").Filter(kept)
	s2 := b.Stream(streams.With(streams.Int32(), streams.Int64()), "topic2")
	s1.OuterJoin(s2, toStringOuter, streams.JoinWindowsOf(100*time.Millisecond)).To("out")
}
