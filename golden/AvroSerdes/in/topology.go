package avroserdes

import "github.com/gofka/streams"

// Click is read and written in Avro, with the schema derived from the type:
// {"type":"record","name":"Click","fields":[{"name":"user","type":"string"},
// {"name":"url","type":"string"},{"name":"bot","type":"boolean"}]}
type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// Page is written in Avro with a schema given as text (the content of an .avsc).
type Page struct {
	URL  string `avro:"url"`
	User string `avro:"user"`
}

const pageSchema = `{"type":"record","name":"Page","fields":[{"name":"url","type":"string"},{"name":"user","type":"string"}]}`

func isRealClick(k string, c Click) bool { return !c.Bot }

func page(k string, c Click) (string, Page) { return c.URL, Page{URL: c.URL, User: c.User} }

//gofka:topology
func AvroClicks(b *streams.StreamsBuilder) {
	real := b.Stream(streams.With(streams.String(), streams.Avro[Click]()), "clicks").Filter(isRealClick)
	real.To("real-clicks", streams.With(streams.String(), streams.JSON[Click]()))
	real.Map(page).To("pages", streams.With(streams.String(), streams.AvroWithSchema[Page](pageSchema)))
}
