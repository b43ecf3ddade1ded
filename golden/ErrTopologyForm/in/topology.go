package errtopologyform

import "github.com/gofka/streams"

// A topology returns nothing when it is given a builder.
//
//gofka:topology
func ReturnsError(b *streams.StreamsBuilder) error {
	b.Stream(streams.With(streams.String(), streams.String()), "in").To("out")
	return nil
}

type app struct{}

// A topology is a function, not a method.
//
//gofka:topology
func (app) Method(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "in").To("out")
}

// A topology in the Build form must return builder.Build().
//
//gofka:topology
func NoBuild() (*streams.Topology, error) {
	builder := streams.NewBuilder()
	builder.Stream(streams.With(streams.String(), streams.String()), "in").To("out")
	return nil, nil
}
