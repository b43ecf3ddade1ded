package errduplicatestore

import "github.com/gofka/streams"

func longer(a, b string) string {
	if len(b) > len(a) {
		return b
	}
	return a
}

//gofka:topology
func Words(b *streams.StreamsBuilder) {
	words := b.Stream(streams.With(streams.String(), streams.String()), "words")
	words.GroupByKey().Count(streams.RocksDBStore("per-user")).ToStream().To("word-counts")
	words.GroupByKey().Reduce(longer, streams.InMemoryStore("per-user")).ToStream().To("longest-words")
}
