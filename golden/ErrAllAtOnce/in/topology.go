package errallatonce

import "github.com/gofka/streams"

type Click struct {
	User string
	URL  string
}

// isReal takes only the value: Filter wants the key too.
func isReal(c Click) bool { return c.URL != "" }

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	clicks := b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks")
	clicks.Filter(isReal).To("real clicks")
	clicks.GroupByKey().Count(streams.InMemoryStore("counts")).ToStream().To("counts")
	clicks.GroupByKey().Count(streams.InMemoryStore("counts")).ToStream().To("counts-again")
}
