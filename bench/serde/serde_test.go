package serde

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/bytedance/sonic"
	gojson "github.com/goccy/go-json"
)

var (
	click = Click{User: "user-42", URL: "/page/17", Bot: false}
	bid   = Bid{Auction: 1007, Bidder: 2001, Price: 13750, Channel: "channel-3", URL: "https://www.nexmark.com/ktqw/itbz/xyx/item.htm?query=1",
		DateTime: time.Date(2026, 12, 5, 2, 30, 15, 123000000, time.UTC), Extra: "fhakadlqwiuerhgvsadf"}
)

// impl is one way to encode and decode a record.
type impl[T any] struct {
	name   string
	encode func(dst []byte, v T) ([]byte, error)
	decode func(data []byte, v *T) error
}

func impls[T any](generated interface {
	Encode([]byte, T) ([]byte, error)
	Decode([]byte) (T, error)
}) []impl[T] {
	return []impl[T]{
		{"encoding-json", func(_ []byte, v T) ([]byte, error) { return json.Marshal(v) }, func(b []byte, v *T) error { return json.Unmarshal(b, v) }},
		{"goccy-go-json", func(_ []byte, v T) ([]byte, error) { return gojson.Marshal(v) }, func(b []byte, v *T) error { return gojson.Unmarshal(b, v) }},
		{"sonic-std", func(_ []byte, v T) ([]byte, error) { return sonic.ConfigStd.Marshal(v) }, func(b []byte, v *T) error { return sonic.ConfigStd.Unmarshal(b, v) }},
		{"sonic-fastest", func(_ []byte, v T) ([]byte, error) { return sonic.ConfigFastest.Marshal(v) }, func(b []byte, v *T) error { return sonic.ConfigFastest.Unmarshal(b, v) }},
		{"generated", generated.Encode, func(b []byte, v *T) (err error) { *v, err = generated.Decode(b); return err }},
	}
}

// BenchmarkSerde: record × op × impl, side by side in one run. The encoders
// append to a reused buffer where their API allows (the generated one).
func BenchmarkSerde(b *testing.B) {
	benchRecord(b, "click", click, impls[Click](gofkaJSONClick{}))
	benchRecord(b, "bid", bid, impls[Bid](gofkaJSONBid{}))
}

func benchRecord[T any](b *testing.B, record string, v T, impls []impl[T]) {
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range impls {
		b.Run("record="+record+"/op=decode/impl="+im.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var fresh, zero T // fresh escapes (im.decode is a function value): once, not per record
			for b.Loop() {
				fresh = zero
				if err := im.decode(data, &fresh); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, im := range impls {
		b.Run("record="+record+"/op=encode/impl="+im.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			buf := make([]byte, 0, 512)
			for b.Loop() {
				var err error
				if buf, err = im.encode(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSameResults: every implementation decodes the benchmark records to the
// same value and the generated serde encodes the bytes encoding/json does, so
// the benchmark compares equal work.
func TestSameResults(t *testing.T) {
	sameResults(t, click, impls[Click](gofkaJSONClick{}))
	sameResults(t, bid, impls[Bid](gofkaJSONBid{}))
}

func sameResults[T any](t *testing.T, v T, impls []impl[T]) {
	want, _ := json.Marshal(v)
	for _, im := range impls {
		var got T
		if err := im.decode(want, &got); err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("%s decodes %s to %+v, %v", im.name, want, got, err)
		}
		if im.name == "generated" {
			if out, err := im.encode(nil, v); err != nil || string(out) != string(want) {
				t.Errorf("generated encodes %s, want %s (%v)", out, want, err)
			}
		}
	}
}
