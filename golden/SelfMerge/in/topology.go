// Package bugselfmerge merges a stream with itself: every record comes out twice,
// as in Kafka Streams.
package selfmerge

import "github.com/gofka/streams"

//gofka:topology
func Twice(b *streams.StreamsBuilder) {
	s := b.Stream(streams.With(streams.String(), streams.String()), "in")
	s.Merge(s).To("twice")
}
