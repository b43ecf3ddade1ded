// Command clickcount counts the clicks of each user, leaving out bots: the seed
// document's example in the typed DSL.
//
//	user-clicks (key: click id, value: JSON Click)
//	  → Filter(isRealClick) → Map(extractUser) → GroupByKey → Count into click-counts
//	  → user-click-counts (key: user, value: int64 count)
//
// gofkagen writes gofka_gen.go, including main, from the topology below.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import "github.com/gofka/streams"

// Click is one click on a page.
type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

func isRealClick(clickID string, c Click) bool { return !c.Bot }

func extractUser(clickID string, c Click) (string, Click) { return c.User, c }

// ClickCount counts real clicks per user.
//
//gofka:topology
func ClickCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "user-clicks").
		Filter(isRealClick).
		Map(extractUser).
		GroupByKey().
		Count(streams.RocksDBStore("click-counts")).
		ToStream().
		To("user-click-counts")
}
