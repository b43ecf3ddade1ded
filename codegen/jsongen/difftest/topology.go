package difftest

import "github.com/gofka/streams"

// Records passes each test type through a topic of its own, so that gofkagen
// generates a JSON serde for it.
//
//gofka:topology
func Records(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Flat]()), "flat").To("flat-out")
	b.Stream(streams.With(streams.String(), streams.JSON[Nested]()), "nested").To("nested-out")
	b.Stream(streams.With(streams.String(), streams.JSON[Node]()), "node").To("node-out")
	b.Stream(streams.With(streams.String(), streams.JSON[*Flat]()), "flat-ptr").To("flat-ptr-out")
	b.Stream(streams.With(streams.String(), streams.JSON[Quoted]()), "quoted").To("quoted-out")
}
