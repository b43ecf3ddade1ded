// Package fanoutfilters reads one stream in many places: a Filter that is not the
// last reader of its stream must not stop the readers after it, whether it runs
// in the batch loop, in a FlatMapValues loop, in a branch, or after a Merge.
package fanoutfilters

import (
	"strings"

	"github.com/gofka/streams"
)

func isA(k, word string) bool { return strings.HasPrefix(word, "a") }

func isB(k, word string) bool { return strings.HasPrefix(word, "b") }

func letters(word string) []string { return strings.Split(word, "") }

func vowel(k, letter string) bool { return strings.Contains("aeiou", letter) }

//gofka:topology
func FanOut(b *streams.StreamsBuilder) {
	words := b.Stream(streams.With(streams.String(), streams.String()), "words")
	words.Filter(isA).To("a-words")
	words.FlatMapValues(letters).Filter(vowel).To("vowels")
	parts := words.Branch(isA, isB)
	parts[0].FilterNot(func(k, word string) bool { return len(word) > 3 }).To("short-a-words")
	parts[1].To("b-words")

	all := words.Merge(b.Stream(streams.With(streams.String(), streams.String()), "more-words"))
	all.Filter(isB).To("merged-b-words")
	all.GroupByKey().
		Count(streams.InMemoryStore("words-per-key")).
		ToStream().
		Filter(func(k string, n int64) bool { return n > 1 }).
		To("repeated-keys")
	all.To("all-words")
}
