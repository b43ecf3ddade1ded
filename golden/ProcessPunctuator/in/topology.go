// Package processpunctuator counts readings with a processor and reports the
// count every 10 s of stream time with a punctuator, which then resets it.
package processpunctuator

import (
	"time"

	"github.com/gofka/streams"
)

// Reading is a sensor reading stamped by the sensor.
type Reading struct {
	At int64 `json:"at"` // milliseconds since the Unix epoch
}

func readAt(_ string, r Reading) time.Time { return time.UnixMilli(r.At) }

// count adds one to the task's count.
func count(_ *streams.ProcessorContext[string, int64], _ string, _ Reading, counts *streams.KeyValueStore[string, int64]) error {
	n, _, err := counts.Get("n")
	if err != nil {
		return err
	}
	return counts.Put("n", n+1)
}

// report forwards the count so far and starts again from zero.
func report(ctx *streams.ProcessorContext[string, int64], counts *streams.KeyValueStore[string, int64]) error {
	n, _, err := counts.Get("n")
	if err != nil {
		return err
	}
	ctx.Forward("count", n)
	return counts.Put("n", 0)
}

//gofka:topology
func Readings(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Reading]()).WithTimestamp(readAt), "readings").
		Process(streams.Processor(count).Punctuate(10*time.Second, streams.StreamTime, report),
			streams.InMemoryStore("window-count")).
		To("reading-counts")
}
