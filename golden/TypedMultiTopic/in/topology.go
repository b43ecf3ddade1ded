// Package typedmultitopic reads two topics as one typed stream and passes each
// value through strings.ToUpper, a function of another package, with MapValues in
// its func(V) V2 form.
package typedmultitopic

import (
	"strings"

	"github.com/gofka/streams"
)

func notEmpty(user, msg string) bool { return msg != "" }

func isShouting(user, msg string) bool { return strings.HasSuffix(msg, "!") }

//gofka:topology
func Upper(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "chat-eu", "chat-us").
		Filter(notEmpty).
		FilterNot(isShouting).
		MapValues(strings.ToUpper).
		To("chat-upper")
}
