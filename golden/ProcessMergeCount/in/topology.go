// Package processmergecount runs a processor after a merge of two topics and
// counts what it forwards under a new key: a processor's output key counts as
// changed, so the count repartitions. The processor splits each line into
// words and forwards those it has not seen from that speaker yet; a
// stream-time punctuator every 2 ms forwards a "tick" word.
package processmergecount

import (
	"strings"
	"time"

	"github.com/gofka/streams"
)

func newWords(ctx *streams.ProcessorContext[string, string], speaker, line string, seen *streams.KeyValueStore[string, bool]) error {
	for _, w := range strings.Fields(line) {
		_, found, err := seen.Get(speaker + "/" + w)
		if err != nil {
			return err
		}
		if found {
			continue
		}
		if err := seen.Put(speaker+"/"+w, true); err != nil {
			return err
		}
		ctx.Forward(w, speaker)
	}
	return nil
}

func tick(ctx *streams.ProcessorContext[string, string], _ *streams.KeyValueStore[string, bool]) error {
	ctx.Forward("tick", "")
	return nil
}

//gofka:topology
func NewWords(b *streams.StreamsBuilder) {
	eu := b.Stream(streams.With(streams.String(), streams.String()), "chat-eu")
	us := b.Stream(streams.With(streams.String(), streams.String()), "chat-us")
	eu.Merge(us).
		Process(streams.Processor(newWords).Punctuate(2*time.Millisecond, streams.StreamTime, tick),
			streams.InMemoryStore("seen-words")).
		GroupByKey().
		Count(streams.InMemoryStore("word-speakers")).
		ToStream().
		To("word-speaker-counts")
}
