// Package processrangereport keeps each sensor's latest reading in a
// processor's store, and every 5 ms of stream time a punctuator forwards them
// all (a Range over the store) and clears the store.
package processrangereport

import (
	"time"

	"github.com/gofka/streams"
)

func keepLatest(_ *streams.ProcessorContext[string, string], sensor, reading string, latest *streams.KeyValueStore[string, string]) error {
	return latest.Put(sensor, reading)
}

func reportAll(ctx *streams.ProcessorContext[string, string], latest *streams.KeyValueStore[string, string]) error {
	var sensors []string
	err := latest.Range(func(sensor, reading string) error {
		ctx.Forward(sensor, reading)
		sensors = append(sensors, sensor)
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range sensors {
		if err := latest.Delete(s); err != nil {
			return err
		}
	}
	return nil
}

//gofka:topology
func Latest(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "readings").
		Process(streams.Processor(keepLatest).Punctuate(5*time.Millisecond, streams.StreamTime, reportAll),
			streams.InMemoryStore("latest")).
		To("latest-readings")
}
