package errnoserde

import "github.com/gofka/streams"

// tally turns a line into word counts: a map, which has no default serde.
func tally(line string) map[string]int {
	m := map[string]int{}
	m[line]++
	return m
}

// updates makes a channel, which can never be encoded.
func updates(user string, n int64) chan int64 { return make(chan int64) }

//gofka:topology
func Tally(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "lines").
		MapValues(tally).
		To("tallies")
	b.Stream(streams.With(streams.String(), streams.Int64()), "counts").
		MapValues(updates).
		To("updates")
}
