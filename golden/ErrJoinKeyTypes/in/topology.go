// Package errjoinkeytypes joins a stream keyed by string with one keyed by
// int64: records join by equal keys, so the key types must be the same.
package errjoinkeytypes

import (
	"time"

	"github.com/gofka/streams"
)

func pair(a, b string) string { return a + b }

//gofka:topology
func ErrJoinKeyTypes(b *streams.StreamsBuilder) {
	byName := b.Stream(streams.With(streams.String(), streams.String()), "by-name")
	byID := b.Stream(streams.With(streams.Int64(), streams.String()), "by-id")
	byName.Join(byID, pair, streams.JoinWindowsOf(time.Second)).To("pairs")
}
