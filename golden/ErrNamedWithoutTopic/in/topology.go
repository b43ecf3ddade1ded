package errnamedwithouttopic

import "github.com/gofka/streams"

func one(k, v string) (string, string) { return v, k }

// Named names a repartition topic; on a sink or an aggregation there is none to
// name, so it is an error rather than an option that silently does nothing.
//
//gofka:topology
func Names(b *streams.StreamsBuilder) {
	words := b.Stream(streams.With(streams.String(), streams.String()), "words")
	words.To("copies", streams.Named("copies-sink"))
	words.Map(one).
		GroupByKey(streams.Named("by-word")).
		Count(streams.RocksDBStore("word-counts"), streams.Named("counted")).
		ToStream().
		To("word-counts")
}
