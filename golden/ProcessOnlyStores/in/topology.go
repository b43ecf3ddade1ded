// Package processonlystores ends a stream in a processor that forwards nothing
// and only keeps a store: each user's longest status so far.
package processonlystores

import "github.com/gofka/streams"

func keepLongest(_ *streams.ProcessorContext[string, string], user, status string, longest *streams.KeyValueStore[string, string]) error {
	old, _, err := longest.Get(user)
	if err != nil || len(old) >= len(status) {
		return err
	}
	return longest.Put(user, status)
}

//gofka:topology
func Longest(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "statuses").
		Process(keepLongest, streams.InMemoryStore("longest-status"))
}
