package errtopicnamechars

import "github.com/gofka/streams"

//gofka:topology
func Copy(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "user clicks").To("clicks/eu")
	b.Stream(streams.With(streams.String(), streams.String()), "..").To("")
}
