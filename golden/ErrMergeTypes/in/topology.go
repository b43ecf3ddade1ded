package errmergetypes

import "github.com/gofka/streams"

//gofka:topology
func Merged(b *streams.StreamsBuilder) {
	names := b.Stream(streams.With(streams.String(), streams.String()), "names")
	ages := b.Stream(streams.With(streams.String(), streams.Int64()), "ages")
	names.Merge(ages).To("people")
}
