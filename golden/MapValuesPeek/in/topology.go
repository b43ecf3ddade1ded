// Package mapvaluespeek uses MapValues in both its forms, func(V) V2 (a function
// literal) and func(K, V) V2 (a named function), with a Peek between them.
package mapvaluespeek

import (
	"log"
	"strconv"

	"github.com/gofka/streams"
)

// verbose turns on logScore's logging; it is off, so the run prints nothing.
var verbose = false

func logScore(player string, points int64) {
	if verbose {
		log.Printf("%s scored %d", player, points)
	}
}

func label(player string, points int64) string {
	return player + "=" + strconv.FormatInt(points, 10)
}

//gofka:topology
func Scores(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.Int64()), "scores").
		MapValues(func(v int64) int64 { return v * 10 }).
		Peek(logScore).
		MapValues(label).
		To("score-labels")
}
