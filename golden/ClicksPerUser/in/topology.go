// Package clicksperuser counts clicks per user: JSON struct values, FilterNot,
// SelectKey, and GroupByKey, which repartitions because SelectKey changed the key,
// into Count, whose store serdes are given with streams.With.
package clicksperuser

import "github.com/gofka/streams"

type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot,omitempty"`
}

func isBot(session string, c Click) bool { return c.Bot }

func user(session string, c Click) string { return c.User }

//gofka:topology
func ClicksPerUser(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks").
		FilterNot(isBot).
		SelectKey(user).
		GroupByKey().
		Count(streams.RocksDBStore("clicks-per-user"), streams.With(streams.String(), streams.Int64())).
		ToStream().
		To("clicks-per-user")
}
