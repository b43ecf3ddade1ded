// Package errwindowedkeyserde sends windowed keys to sinks that cannot encode them:
// with a serde for plain string keys; a windowed key made by hand, whose window
// size gofkagen cannot know; and a windowed key whose inner key JSON cannot encode.
package errwindowedkeyserde

import (
	"time"

	"github.com/gofka/streams"
)

// Visitor's JSON encoding fails: encoding/json cannot encode a func.
type Visitor struct {
	Name string
	Hook func()
}

func byHand(user, page string) (streams.Windowed[string], string) {
	return streams.Windowed[string]{Key: user}, page
}

func visitor(user, page string) Visitor { return Visitor{Name: user} }

//gofka:topology
func Keys(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views")
	counts := views.
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute)).
		Count(streams.RocksDBStore("per-minute")).
		ToStream()
	counts.To("plain", streams.With(streams.String(), streams.Int64()))
	views.Map(byHand).To("by-hand")
	views.GroupBy(visitor, streams.With(streams.JSON[Visitor](), streams.String())).
		WindowedBy(streams.TumblingWindows(time.Minute)).
		Count(streams.RocksDBStore("per-visitor")).
		ToStream().
		To("per-visitor")
}
