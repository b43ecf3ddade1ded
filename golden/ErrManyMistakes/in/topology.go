package errmanymistakes

import (
	"os"
	"strings"

	"github.com/gofka/streams"
)

type Click struct {
	User string
	URL  string
}

// isReal takes only the value: Filter wants the key too.
func isReal(c Click) bool { return c.URL != "" }

// user returns one value: Map wants a key and a value.
func user(k string, c Click) string { return c.User }

func sum(a, b int64) int64 { return a + b }

func urlSet(c Click) map[string]bool { return map[string]bool{c.URL: true} }

// Every mistake is reported at once, in position order.
//
//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	minLen := 3
	keep := isReal
	clicks := b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks")
	clicks.Filter(isReal).To("real-clicks")
	clicks.Map(user).To("users")
	clicks.Filter(func(k string, c Click) bool { return len(c.URL) > minLen }).To("long-urls")
	clicks.MapValues(strings.ToUpper).To("upper")
	clicks.GroupByKey().Reduce(sum, streams.InMemoryStore("sums")).ToStream().To("sums")
	clicks.MapValues(urlSet).To("url-sets")
	clicks.To("clicks copy")
	clicks.To(os.Getenv("COPY_TO"))
	clicks.Filter(keep).To("kept")
	if len(os.Args) > 1 {
		clicks.To("maybe")
	}
}
