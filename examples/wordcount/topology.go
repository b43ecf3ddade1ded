// Command wordcount counts the words of lines of text: the classic first stream
// processing program, as a Gofka Streams topology.
//
// Each record of text-lines is a line of text (the key is ignored). The line is
// split into lowercase words, each word becomes the key of its own record, and a
// count per word is kept in the RocksDB store word-counts. Every update of a count
// is written to the topic word-counts.
//
//	text-lines (key: any string, value: a line of text)
//	  │
//	  ├─ FlatMapValues(splitWords)   "To be or" → "to", "be", "or"
//	  ├─ SelectKey(wordKey)          key := the word
//	  │     ═══ repartition topic word-count-word-counts-repartition ═══
//	  ├─ GroupByKey
//	  ├─ Count into store word-counts (changelog word-count-word-counts-changelog)
//	  └─ ToStream
//	  ▼
//	word-counts (key: word, value: int64 count, 8 bytes big-endian)
//
// SelectKey changes the key, so gofkagen inserts a repartition topic before the
// count: all the records of one word then meet in one task, whatever partition the
// line came from.
//
// # Running it
//
// gofkagen writes gofka_gen.go, including main, from the topology below:
//
//	go generate && go build && ./wordcount
//
// With no --brokers the binary starts an embedded in-memory broker on
// 127.0.0.1:9092 (change it with --embedded-listen). Feed it lines with kcat, and
// read the counts:
//
//	printf '%s\n' 'To be or not to be' 'that is the question' |
//		kcat -P -b 127.0.0.1:9092 -t text-lines
//	kcat -C -b 127.0.0.1:9092 -t word-counts -e -f '%k %s\n' -s value=Q
//
// (-s value=Q reads the value as a big-endian int64.) With a real cluster, create
// text-lines first and run ./wordcount --brokers host:9092.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"strings"

	"github.com/gofka/streams"
)

// splitWords splits a line into its words, in lowercase. Words are separated by
// white space; punctuation stays part of a word.
func splitWords(line string) []string {
	words := strings.Fields(line)
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}

// wordKey makes the word the key of its record.
func wordKey(_ string, word string) string { return word }

// WordCount counts the words of the lines in text-lines.
//
//gofka:topology
func WordCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "text-lines").
		FlatMapValues(splitWords).
		SelectKey(wordKey).
		GroupByKey().
		Count(streams.RocksDBStore("word-counts")).
		ToStream().
		To("word-counts")
}
