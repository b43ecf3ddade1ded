// Package bugunusedtable aggregates into stores whose tables are not used further
// (no ToStream): the stores are the point, to be queried. Count, Reduce and
// Aggregate are each such an end of a stream.
package unusedtable

import "github.com/gofka/streams"

func longer(a, b string) string {
	if len(b) > len(a) {
		return b
	}
	return a
}

func zero() int64 { return 0 }

func addLen(user, word string, total int64) int64 { return total + int64(len(word)) }

//gofka:topology
func Tables(b *streams.StreamsBuilder) {
	words := b.Stream(streams.With(streams.String(), streams.String()), "words")
	words.GroupByKey().Count(streams.InMemoryStore("word-count"))
	words.GroupByKey().Reduce(longer, streams.InMemoryStore("longest-word"))
	words.GroupByKey().Aggregate(zero, addLen, streams.InMemoryStore("letters"))
}
