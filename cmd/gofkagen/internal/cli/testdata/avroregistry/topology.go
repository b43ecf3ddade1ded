package avroregistry

import "github.com/gofka/streams"

type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
}

const pageSchema = `{"type":"record","name":"Page","fields":[{"name":"url","type":"string"}]}`

type Page struct {
	URL string `avro:"url"`
}

func page(k string, c Click) (string, Page) { return c.URL, Page{URL: c.URL} }

const registryURL = "http://registry.invalid:8081"

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	clicks := b.Stream(streams.With(streams.String(), streams.Avro[Click](streams.Registry(registryURL, streams.ValueSubject("clicks")))), "clicks")
	clicks.Map(page).To("pages", streams.With(streams.String(), streams.AvroWithSchema[Page](pageSchema, streams.Registry(registryURL, "pages-value"))))
}
