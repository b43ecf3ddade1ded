// Package bugshadowednames uses package-level names that the generated code also
// uses for its local variables: r (the record) and i (the batch index). The
// user's names must still mean the user's declarations in the generated calls.
package shadowednames

import "github.com/gofka/streams"

type Limits struct{ Max int64 }

func (l Limits) Over(k string, v int64) bool { return v > l.Max }

var r = Limits{Max: 10}

func i(k string, v int64) bool { return k != "" }

//gofka:topology
func Large(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Int64()), "amounts").
		Filter(r.Over).
		Filter(i).
		To("large-amounts")
}
