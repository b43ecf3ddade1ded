// Package errjoinersignature passes joiners of the wrong shape: a LeftJoin's
// joiner must take a pointer to the right value (nil when none joined), and
// an OuterJoin's pointers to both.
package errjoinersignature

import (
	"time"

	"github.com/gofka/streams"
)

func plain(view, click string) string { return view + click }

func leftOnly(view string, click *string) string { return view }

//gofka:topology
func ErrJoinerSignature(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views")
	clicks := b.Stream(streams.With(streams.String(), streams.String()), "clicks")
	views.LeftJoin(clicks, plain, streams.JoinWindowsOf(time.Second)).To("left")
	views.OuterJoin(clicks, leftOnly, streams.JoinWindowsOf(time.Second), streams.Named("outer")).To("outer")
}
