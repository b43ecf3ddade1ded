// Package flatmapwordcount splits lines into words with FlatMapValues (given
// strings.Fields, a function of another package), turns each word into a record
// keyed by the word with FlatMap (building streams.KeyValue with streams.KV), and
// sums per word with Reduce; the grouping repartitions, as FlatMap changed the key,
// through a topic named with streams.Named.
package flatmapwordcount

import (
	"strings"

	"github.com/gofka/streams"
)

func add(total, n int64) int64 { return total + n }

//gofka:topology
func WordCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "lines").
		FlatMapValues(strings.Fields).
		FlatMap(func(doc, word string) []streams.KeyValue[string, int64] {
			word = strings.ToLower(strings.Trim(word, ".,!?"))
			if word == "" {
				return nil
			}
			return []streams.KeyValue[string, int64]{streams.KV(word, int64(1))}
		}).
		GroupByKey(streams.Named("words")).
		Reduce(add, streams.RocksDBStore("word-totals")).
		ToStream().
		To("word-totals")
}
