// Package streamjoinself joins a stream with itself within 1 ms (the driver
// gives the records consecutive milliseconds): each record is put in both
// stores, left side first, so it joins itself once, and each pair of records
// 1 ms apart joins in both orders.
package streamjoinself

import (
	"time"

	"github.com/gofka/streams"
)

func pair(a, b string) string { return a + "+" + b }

//gofka:topology
func StreamJoinSelf(b *streams.StreamsBuilder) {
	s := b.Stream(streams.With(streams.String(), streams.String()), "letters")
	s.Join(s, pair, streams.JoinWindowsOf(time.Millisecond)).To("pairs")
}
