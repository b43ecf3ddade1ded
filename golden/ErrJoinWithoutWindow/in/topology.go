// Package errjoinwithoutwindow joins two streams without a JoinWindows
// option: both sides are buffered only as long as the window, so a
// stream-stream join needs one.
package errjoinwithoutwindow

import "github.com/gofka/streams"

func pair(a, b string) string { return a + b }

//gofka:topology
func ErrJoinWithoutWindow(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views")
	clicks := b.Stream(streams.With(streams.String(), streams.String()), "clicks")
	views.Join(clicks, pair).To("pairs")
}
