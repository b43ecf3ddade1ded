package streams_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/gofka/streams"
)

type avroAddress struct {
	City string `json:"city"`
	Zip  int32  `json:"zip"`
}

type avroBase struct {
	ID int64 `json:"id"`
}

// avroEvent has every kind of field the derived schema maps.
type avroEvent struct {
	avroBase
	Name     string             `json:"name"`
	Payload  []byte             `json:"payload"`
	Small    int8               `json:"small"`
	Count    int                `json:"count"`
	Ratio    float32            `json:"ratio"`
	Score    float64            `json:"score"`
	OK       bool               `json:"ok"`
	Tags     []string           `json:"tags"`
	Attrs    map[string]int64   `json:"attrs"`
	Note     *string            `json:"note"`
	Home     avroAddress        `json:"home"`
	Work     *avroAddress       `json:"work"`
	Past     []avroAddress      `json:"past"`
	At       time.Time          `json:"at"`
	Inline   struct{ A, B int } `json:"inline"`
	Skipped  string             `json:"-"`
	internal int
}

func sampleEvent() avroEvent {
	note := "hello"
	e := avroEvent{
		avroBase: avroBase{ID: -42},
		Name:     "ünïcode",
		Payload:  []byte{0, 1, 255},
		Small:    -7,
		Count:    1 << 40,
		Ratio:    1.5,
		Score:    -2.25,
		OK:       true,
		Tags:     []string{"a", "b"},
		Attrs:    map[string]int64{"x": 1, "y": -2},
		Note:     &note,
		Home:     avroAddress{City: "Lyon", Zip: 69001},
		Past:     []avroAddress{{City: "Oslo", Zip: 150}},
		At:       time.UnixMilli(1_700_000_000_123).UTC(),
	}
	e.Inline.A, e.Inline.B = 3, 4
	return e
}

func TestAvroRoundTrip(t *testing.T) {
	s := streams.Avro[avroEvent]()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	in := sampleEvent()
	b, err := s.Encode([]byte("prefix"), in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "prefix") {
		t.Fatalf("Encode did not append to dst: %q", b)
	}
	out, err := s.Decode(b[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
}

// TestAvroBytesMatchGoavro decodes our payload with an independent Avro
// implementation (linkedin/goavro), using our schema, and compares the values.
func TestAvroBytesMatchGoavro(t *testing.T) {
	s := streams.Avro[avroEvent]()
	in := sampleEvent()
	b, err := s.Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(s.Schema())
	if err != nil {
		t.Fatalf("goavro rejects our schema %s: %v", s.Schema(), err)
	}
	native, rest, err := codec.NativeFromBinary(b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("goavro: %v (%d bytes left)", err, len(rest))
	}
	addr := func(city string, zip int32) map[string]any { return map[string]any{"city": city, "zip": zip} }
	want := map[string]any{
		"id": int64(-42), "name": "ünïcode", "payload": []byte{0, 1, 255}, "small": int32(-7),
		"count": int64(1 << 40), "ratio": float32(1.5), "score": -2.25, "ok": true,
		"tags":   []any{"a", "b"},
		"attrs":  map[string]any{"x": int64(1), "y": int64(-2)},
		"note":   map[string]any{"string": "hello"},
		"home":   addr("Lyon", 69001),
		"work":   nil,
		"past":   []any{addr("Oslo", 150)},
		"at":     time.UnixMilli(1_700_000_000_123).UTC(),
		"inline": map[string]any{"A": int64(3), "B": int64(4)},
	}
	if !reflect.DeepEqual(native, want) {
		t.Fatalf("goavro reads\n%#v\nwant\n%#v", native, want)
	}
	// And the other way: goavro's bytes for the same value decode to our value.
	want["work"] = map[string]any{"avroAddress": addr("Paris", 75001)}
	theirs, err := codec.BinaryFromNative(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Decode(theirs)
	if err != nil {
		t.Fatal(err)
	}
	in.Work = &avroAddress{City: "Paris", Zip: 75001}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("decoding goavro's bytes:\n got %+v\nwant %+v", got, in)
	}
}

func TestAvroFieldNames(t *testing.T) {
	type jsonTagged struct {
		UserID string `json:"user_id,omitempty"`
		Plain  int64
	}
	type avroTagged struct {
		UserID string `avro:"uid" json:"user_id"`
		Other  int64  `json:"other"` // no avro tag: the Go name, since the type uses avro tags
	}
	for _, c := range []struct {
		schema string
		want   []string
	}{
		{streams.Avro[jsonTagged]().Schema(), []string{`"name":"user_id"`, `"name":"Plain"`, `"name":"jsonTagged"`}},
		{streams.Avro[avroTagged]().Schema(), []string{`"name":"uid"`, `"name":"Other"`}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.schema, w) {
				t.Errorf("schema %s lacks %s", c.schema, w)
			}
		}
	}
}

func TestAvroWithSchema(t *testing.T) {
	type click struct {
		User string `avro:"user"`
		URL  string `avro:"url"`
		Bot  bool   `avro:"bot"`
	}
	const avsc = `{"type":"record","name":"Click","namespace":"example","fields":[
		{"name":"user","type":"string"},{"name":"url","type":"string"},{"name":"bot","type":"boolean"}]}`
	s := streams.AvroWithSchema[click](avsc)
	in := click{User: "u1", URL: "/a", Bot: true}
	b, err := s.Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	// user "u1" (len 2 → zigzag 4), url "/a", bot true
	if want := "\x04u1\x04/a\x01"; string(b) != want {
		t.Fatalf("bytes %q, want %q", b, want)
	}
	out, err := s.Decode(b)
	if err != nil || out != in {
		t.Fatalf("decode: %+v, %v", out, err)
	}
}

func TestAvroRefusesWhatItCannotEncode(t *testing.T) {
	type bad struct {
		Name string
		Ch   map[int]string
	}
	type noName struct {
		A string `json:",omitempty"`
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{streams.Avro[bad]().Err(), "field Ch has type map[int]string, which is a map whose keys are not strings"},
		{streams.Avro[uint64]().Err(), "uint64 has no Avro type"},
		{streams.Avro[noName]().Err(), "field A has type string, which has a json tag that gives no name"},
		{streams.AvroWithSchema[bad](`{"type":"record"`).Err(), "avro serde for"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
	s := streams.Avro[bad]()
	if _, err := s.Encode(nil, bad{}); err == nil {
		t.Error("Encode with a broken serde returned no error")
	}
	if _, err := s.Decode([]byte{0}); err == nil {
		t.Error("Decode with a broken serde returned no error")
	}
}

func TestAvroDecodeErrors(t *testing.T) {
	s := streams.Avro[avroAddress]()
	for _, in := range [][]byte{nil, {0x80}, {0x06, 'a'}} {
		if v, err := s.Decode(in); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", in, v)
		}
	}
}

var timestampForTests = time.UnixMilli(1_700_000_000_123).UTC()
