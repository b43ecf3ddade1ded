// Command adclicks attributes ad clicks to ad impressions with a windowed
// left join: a click counts for an impression when it comes at most ten
// minutes after it, and an impression that no click follows in that time is
// reported too, once its window has closed (ten minutes plus a minute of
// grace, by stream time).
//
//	ad-impressions (key: impression id, value: JSON Impression)
//	  │                          ad-clicks (key: user, value: JSON Click)
//	  │                            └─ SelectKey(byImpression): key = the impression clicked
//	  │                                 ▼ repartition topic ad-clicks-impression-clicks-right-repartition
//	  └─ LeftJoin(JoinWindows(0, 10*time.Minute).Grace(time.Minute)) ◀─┘
//	       stores impression-clicks-this, -other, -outer (changelogged)
//	  ▼
//	ad-attributions (key: impression id, value: JSON Attribution: one per
//	                 click, or one with clicked false when none came)
//
// The impressions topic and the repartition topic are co-partitioned: the
// runtime sizes the repartition topic as the impressions topic and checks, at
// start-up, that the two have as many partitions.
//
// # Running it
//
//	go generate && go build && ./adclicks
//
// The joins' semantics, Kafka Streams 3.x's, are in the README ("Joins"), and
// examples/adclicks/joinports replays Kafka Streams' own join tests.
package main

import (
	"time"

	"github.com/gofka/streams"
)

//go:generate go run github.com/gofka/streams/cmd/gofkagen

// Impression is an ad shown to a user.
type Impression struct {
	Ad   string `json:"ad"`
	User string `json:"user"`
}

// Click is a user's click on the ad of an impression.
type Click struct {
	Impression string `json:"impression"`
}

// Attribution says whether an impression's ad was clicked (one record per click).
type Attribution struct {
	Ad      string `json:"ad"`
	User    string `json:"user"`
	Clicked bool   `json:"clicked"`
}

// byImpression keys a click by the impression it clicked.
func byImpression(user string, c Click) string { return c.Impression }

// attribute is the join's joiner: click is nil for an impression nobody clicked.
func attribute(imp Impression, click *Click) Attribution {
	return Attribution{Ad: imp.Ad, User: imp.User, Clicked: click != nil}
}

//gofka:topology
func AdClicks(b *streams.StreamsBuilder) {
	impressions := b.Stream(streams.With(streams.String(), streams.JSON[Impression]()), "ad-impressions")
	clicks := b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "ad-clicks").SelectKey(byImpression)
	impressions.LeftJoin(clicks, attribute,
		streams.JoinWindows(0, 10*time.Minute).Grace(time.Minute), streams.Named("impression-clicks")).
		To("ad-attributions")
}
