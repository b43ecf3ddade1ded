package errwrongsignature

import "github.com/gofka/streams"

type Click struct {
	User string
	URL  string
}

// isReal takes only the value: Filter wants the key too.
func isReal(c Click) bool { return c.URL != "" }

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks").
		Filter(isReal).
		To("real-clicks")
}
