package streams_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gofka/streams"
	"github.com/gofka/streams/internal/testproto"
	"github.com/gofka/streams/serde/registry"
)

// These tests run the serdes against franz-go's in-memory registry (srfake, an
// independent implementation of Confluent's REST API on 127.0.0.1), and read the
// wire-format headers with franz-go's own ConfluentHeader. srfake does not check
// compatibility (it answers "compatible" to everything), so the compatibility
// rules themselves are not tested here.

func newRegistry(t *testing.T) string {
	t.Helper()
	r := srfake.New()
	t.Cleanup(r.Close)
	return r.URL()
}

type clickV1 struct {
	User string `avro:"user"`
	URL  string `avro:"url"`
}

func TestAvroRegistryWireFormat(t *testing.T) {
	url := newRegistry(t)
	subject := streams.ValueSubject("clicks")
	s := streams.Avro[clickV1](streams.Registry(url, subject))
	in := clickV1{User: "u1", URL: "/a"}
	b, err := s.Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var h sr.ConfluentHeader
	id, payload, err := h.DecodeID(b)
	if err != nil || b[0] != 0 {
		t.Fatalf("franz-go reads our header: id %d, %v (bytes %q)", id, err, b)
	}
	// The registry holds our schema under that id and subject.
	c := registry.New(url)
	got, err := c.SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != s.Schema() || got.SchemaType != registry.Avro {
		t.Fatalf("schema %d is %+v, want ours %s", id, got, s.Schema())
	}
	if vs, err := c.Versions(context.Background(), subject); err != nil || len(vs) != 1 {
		t.Fatalf("versions of %s: %v, %v", subject, vs, err)
	}
	// goavro reads the payload with the registered schema.
	codec, err := goavro.NewCodec(got.Schema)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := codec.NativeFromBinary(payload)
	if want := map[string]any{"user": "u1", "url": "/a"}; err != nil || !reflect.DeepEqual(native, want) {
		t.Fatalf("goavro reads %v (%v), want %v", native, err, want)
	}
	out, err := s.Decode(b)
	if err != nil || out != in {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	// A second record reuses the id without registering again.
	b2, _ := s.Encode(nil, in)
	if id2, _, _ := h.DecodeID(b2); id2 != id {
		t.Fatalf("second record has id %d, first %d", id2, id)
	}
}

// TestAvroRegistrySchemaEvolution writes with two versions of a record type, the
// second adding an optional field (BACKWARD compatible), and reads each version's
// records with the other. Both Go types are named click: Avro resolves records
// by name, and the derived schema is named after the Go type.
func TestAvroRegistrySchemaEvolution(t *testing.T) {
	url := newRegistry(t)
	subject := streams.ValueSubject("clicks")
	type click struct {
		User string `avro:"user"`
		URL  string `avro:"url"`
	}
	v1 := streams.Avro[click](streams.Registry(url, subject))
	old, err := v1.Encode(nil, click{User: "u1", URL: "/a"})
	if err != nil {
		t.Fatal(err)
	}
	var newer []byte
	{
		type click struct {
			User string  `avro:"user"`
			URL  string  `avro:"url"`
			Ref  *string `avro:"ref"`
		}
		v2 := streams.Avro[click](streams.Registry(url, subject))
		ref := "home"
		if newer, err = v2.Encode(nil, click{User: "u2", URL: "/b", Ref: &ref}); err != nil {
			t.Fatal(err)
		}
		// The v2 reader reads the v1 record through schema resolution: Ref takes its default.
		got, err := v2.Decode(old)
		if err != nil {
			t.Fatal(err)
		}
		if got.User != "u1" || got.URL != "/a" || got.Ref != nil {
			t.Fatalf("v2 reads the v1 record as %+v", got)
		}
	}
	var h sr.ConfluentHeader
	id1, _, _ := h.DecodeID(old)
	id2, _, _ := h.DecodeID(newer)
	if id1 == id2 {
		t.Fatalf("both versions have id %d", id1)
	}
	// And the v1 reader reads the v2 record, skipping the field it does not know.
	if got, err := v1.Decode(newer); err != nil || got != (click{User: "u2", URL: "/b"}) {
		t.Fatalf("v1 reads the v2 record as %+v, %v", got, err)
	}
}

func TestProtobufRegistryWireFormat(t *testing.T) {
	url := newRegistry(t)
	clicks := streams.Protobuf[*testproto.Click](streams.Registry(url, streams.ValueSubject("clicks")))
	metas := streams.Protobuf[*testproto.Bid_Meta](streams.Registry(url, streams.ValueSubject("metas")))
	for _, c := range []struct {
		encode  func() ([]byte, error)
		indexes []int
	}{
		{func() ([]byte, error) { return clicks.Encode(nil, &testproto.Click{User: "u"}) }, []int{0}},
		{func() ([]byte, error) { return metas.Encode(nil, &testproto.Bid_Meta{Tags: []string{"t"}}) }, []int{1, 0}},
	} {
		b, err := c.encode()
		if err != nil {
			t.Fatal(err)
		}
		var h sr.ConfluentHeader
		id, rest, err := h.DecodeID(b)
		if err != nil {
			t.Fatal(err)
		}
		indexes, payload, err := h.DecodeIndex(rest, 10)
		if err != nil || !reflect.DeepEqual(indexes, c.indexes) {
			t.Fatalf("message indexes %v (%v), want %v", indexes, err, c.indexes)
		}
		s, err := registry.New(url).SchemaByID(context.Background(), id)
		if err != nil || s.SchemaType != registry.Protobuf || !strings.Contains(s.Schema, "message Click {") {
			t.Fatalf("registered schema %+v, %v", s, err)
		}
		if len(parseWire(t, payload)) != 1 {
			t.Fatalf("payload %q is not the one-field message", payload)
		}
	}
	b, _ := metas.Encode(nil, &testproto.Bid_Meta{Tags: []string{"t"}})
	if m, err := metas.Decode(b); err != nil || len(m.Tags) != 1 || m.Tags[0] != "t" {
		t.Fatalf("round trip: %v, %v", m, err)
	}
}

func TestJSONSchemaRegistryWireFormat(t *testing.T) {
	url := newRegistry(t)
	const schema = `{"type":"object","properties":{"user":{"type":"string"},"url":{"type":"string"}}}`
	s := streams.JSONSchema[clickV1](schema, streams.Registry(url, streams.ValueSubject("clicks")))
	b, err := s.Encode(nil, clickV1{User: "u", URL: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var h sr.ConfluentHeader
	id, payload, err := h.DecodeID(b)
	if err != nil || string(payload) != `{"User":"u","URL":"/"}` {
		t.Fatalf("header %d (%v), payload %s", id, err, payload)
	}
	if got, err := registry.New(url).SchemaByID(context.Background(), id); err != nil || got.SchemaType != registry.JSONSchema {
		t.Fatalf("registered %+v, %v", got, err)
	}
	if v, err := s.Decode(b); err != nil || v.User != "u" {
		t.Fatalf("round trip %+v, %v", v, err)
	}
}

func TestRegistryErrors(t *testing.T) {
	url := newRegistry(t)
	s := streams.Avro[clickV1](streams.Registry(url, "clicks-value"))
	for _, in := range [][]byte{{}, []byte("\x01\x00\x00\x00\x01"), []byte("\x00\x00\x00\x03\xe7\x02u")} {
		if v, err := s.Decode(in); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", in, v)
		}
	}
	c := registry.New(url)
	_, err := c.SchemaByID(context.Background(), 999)
	var e *registry.Error
	if !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("unknown id: %v, want a 404 *registry.Error", err)
	}
	// A registry that is not there: Encode fails, and keeps failing.
	dead := streams.Avro[clickV1](streams.Registry("http://127.0.0.1:1", "x-value"))
	for range 2 {
		if _, err := dead.Encode(nil, clickV1{}); err == nil || !strings.Contains(err.Error(), "registering the schema of subject x-value") {
			t.Fatalf("Encode without a registry: %v", err)
		}
	}
}

func TestRegistryClient(t *testing.T) {
	url := newRegistry(t)
	c := registry.New(url)
	ctx := context.Background()
	s := registry.Schema{Schema: `{"type":"string"}`, SchemaType: registry.Avro}
	id1, err := c.Register(ctx, "k-key", s)
	if err != nil {
		t.Fatal(err)
	}
	// registering the same schema again (even through another client) gives the same id
	if id2, err := registry.New(url).Register(ctx, "k-key", s); err != nil || id2 != id1 {
		t.Fatalf("second registration: id %d, %v; first %d", id2, err, id1)
	}
	if err := c.SetCompatibility(ctx, "k-key", "BACKWARD"); err != nil {
		t.Fatal(err)
	}
	res, err := c.CheckCompatibility(ctx, "k-key", registry.Schema{Schema: `{"type":"long"}`})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compatibility answer (srfake does not check): %+v", res)
	if res, err := c.CheckCompatibility(ctx, "never-registered", s); err != nil || !res.Compatible {
		t.Fatalf("a new subject: %+v, %v", res, err)
	}
}

// BenchmarkAvroRegistry measures the wire format's cost over bare Avro: the
// header, and decoding through the schema resolved for the record's id.
func BenchmarkAvroRegistry(b *testing.B) {
	r := srfake.New()
	defer r.Close()
	b.Run("bare", func(b *testing.B) { benchSerde(b, streams.Serde[benchBid](streams.Avro[benchBid]()), benchBidValue) })
	b.Run("registry", func(b *testing.B) {
		s := streams.Avro[benchBid](streams.Registry(r.URL(), "bids-value"))
		benchSerde(b, streams.Serde[benchBid](s), benchBidValue)
	})
}
