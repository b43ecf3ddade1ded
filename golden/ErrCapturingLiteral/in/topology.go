package errcapturingliteral

import (
	"strings"

	"github.com/gofka/streams"
)

//gofka:topology
func Prefixed(b *streams.StreamsBuilder) {
	prefix := "vip-"
	b.Stream(streams.With(streams.String(), streams.String()), "customers").
		Filter(func(id, name string) bool { return strings.HasPrefix(id, prefix) }).
		To("vip-customers")
}
