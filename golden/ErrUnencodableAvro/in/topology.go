package errunencodableavro

import (
	"time"

	"github.com/gofka/streams"
)

// Click is encodable in Avro: strings, a bool, a time and an optional field.
type Click struct {
	User string    `json:"user"`
	URL  string    `json:"url"`
	Bot  bool      `json:"bot"`
	At   time.Time `json:"at"`
	Ref  *string   `json:"ref"`
}

// Heatmap's map key is an int: Avro maps have string keys.
type Heatmap struct {
	Cells map[int]int64
}

// Totals holds a uint64, which no Avro type can hold.
type Totals struct {
	Sum []struct{ N uint64 }
}

// Tagless has a json tag with no name: the field would have an empty name.
type Tagless struct {
	User string `json:",omitempty"`
}

type Base struct{ ID int64 }

// Wrapped embeds a pointer to a struct.
type Wrapped struct {
	*Base
	Name string
}

// badSchema misses the fields of its record.
const badSchema = `{"type":"record","name":"Click"}`

func heatmap(k string, c Click) Heatmap { return Heatmap{} }

func totals(k string, c Click) Totals { return Totals{} }

func tagless(k string, c Click) Tagless { return Tagless{} }

func wrapped(k string, c Click) Wrapped { return Wrapped{} }

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	clicks := b.Stream(streams.With(streams.String(), streams.Avro[Click]()), "clicks")
	clicks.MapValues(heatmap).To("heatmaps", streams.With(streams.String(), streams.Avro[Heatmap]()))
	clicks.MapValues(totals).To("totals", streams.With(streams.String(), streams.Avro[Totals]()))
	clicks.MapValues(tagless).To("tagless", streams.With(streams.String(), streams.Avro[Tagless]()))
	clicks.MapValues(wrapped).To("wrapped", streams.With(streams.Avro[string](), streams.Avro[Wrapped]()))
	clicks.To("clicks-copy", streams.With(streams.Avro[uint](), streams.Avro[Click]()))
	clicks.To("clicks-bad-schema", streams.With(streams.String(), streams.AvroWithSchema[Click](badSchema)))
}
