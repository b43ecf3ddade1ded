// Package bugemptystring writes empty strings: an empty string key or value is
// written as zero bytes, not as null (a null value is a tombstone, which deletes
// the key from a compacted topic).
package emptystrings

import (
	"strings"

	"github.com/gofka/streams"
)

//gofka:topology
func Trim(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "in").
		MapValues(strings.TrimSpace).
		To("trimmed")
}
