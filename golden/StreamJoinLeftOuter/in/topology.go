// Package streamjoinleftouter left-joins and outer-joins ad views with clicks
// that follow them by at most 2 ms, with 1 ms of grace (the driver gives the
// records consecutive milliseconds). A view or click that joins nothing is
// emitted, with "-" for the absent side, once its window has closed by stream
// time: the view's after 3 ms (after + grace), the click's after 1 ms
// (before + grace).
package streamjoinleftouter

import (
	"time"

	"github.com/gofka/streams"
)

func or(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// clicked is the LeftJoin's joiner: the click is nil when none joined.
func clicked(view string, click *string) string { return view + "+" + or(click) }

// either is the OuterJoin's joiner: one side may be nil.
func either(ad string, view, click *string) string { return ad + ":" + or(view) + "+" + or(click) }

//gofka:topology
func StreamJoinLeftOuter(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views")
	clicks := b.Stream(streams.With(streams.String(), streams.String()), "clicks")
	views.LeftJoin(clicks, clicked, streams.JoinWindows(0, 2*time.Millisecond).Grace(time.Millisecond), streams.Named("vc")).
		To("views-left")
	views.OuterJoin(clicks, either, streams.JoinWindows(0, 2*time.Millisecond).Grace(time.Millisecond), streams.Named("vco")).
		To("views-outer")
}
