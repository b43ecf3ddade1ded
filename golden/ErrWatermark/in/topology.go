package errwatermark

import (
	"time"

	"github.com/gofka/streams"
)

// lateness is a variable: gofkagen needs the watermark's durations as constants.
var lateness = 5 * time.Second

//gofka:topology
func Views(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()).WithWatermark(lateness, time.Minute), "views").
		To("view-copies")
	b.Stream(streams.With(streams.String(), streams.String()).WithWatermark(-time.Second, -1), "clicks").
		To("click-copies")
}
