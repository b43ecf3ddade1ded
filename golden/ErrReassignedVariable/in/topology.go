package errreassignedvariable

import (
	"strings"

	"github.com/gofka/streams"
)

func notEmpty(k, v string) bool { return v != "" }

//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	s := b.Stream(streams.With(streams.String(), streams.String()), "orders")
	s = s.Filter(notEmpty)
	s = s.MapValues(strings.TrimSpace)
	s.To("clean-orders")
}
