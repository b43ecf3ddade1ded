package streams_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/gofka/streams"
)

// The benchmarks compare hamba/avro alone, the serde's flat path (avro_flat.go:
// offsets and kinds built once from the type) and hand-specialized code: what
// gofkagen would generate for one type (straight-line appends and reads, no
// reflection, no interface values), to tell whether generating Avro code pays.
// encoding/json is there for scale.

type benchClick struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// benchBid is the Nexmark Bid.
type benchBid struct {
	Auction  int64     `json:"auction"`
	Bidder   int64     `json:"bidder"`
	Price    int64     `json:"price"`
	Channel  string    `json:"channel"`
	URL      string    `json:"url"`
	DateTime time.Time `json:"dateTime"`
	Extra    string    `json:"extra"`
}

var (
	benchClickValue = benchClick{User: "user-1234", URL: "https://example.com/page/42", Bot: false}
	benchBidValue   = benchBid{Auction: 1000, Bidder: 2001, Price: 12_345_678, Channel: "Google",
		URL: "https://www.nexmark.com/abc/def/item.htm?query=1", DateTime: time.UnixMilli(1_700_000_000_123).UTC(), Extra: ""}
)

// The hand-specialized Avro code.

func appendAvroString(dst []byte, s string) []byte {
	return append(binary.AppendVarint(dst, int64(len(s))), s...)
}

var errShort = errors.New("avro: short input")

func readAvroLong(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, errShort
	}
	return v, b[n:], nil
}

// readAvroString copies the string out of b: a serde for a struct may not keep
// references to its input (see Serde).
func readAvroString(b []byte) (string, []byte, error) {
	n, b, err := readAvroLong(b)
	if err != nil || n < 0 || int64(len(b)) < n {
		return "", nil, errShort
	}
	return string(b[:n]), b[n:], nil
}

func encodeClickAvro(dst []byte, c benchClick) []byte {
	dst = appendAvroString(dst, c.User)
	dst = appendAvroString(dst, c.URL)
	if c.Bot {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func decodeClickAvro(b []byte) (c benchClick, err error) {
	if c.User, b, err = readAvroString(b); err != nil {
		return c, err
	}
	if c.URL, b, err = readAvroString(b); err != nil {
		return c, err
	}
	if len(b) != 1 || b[0] > 1 {
		return c, errShort
	}
	c.Bot = b[0] == 1
	return c, nil
}

func encodeBidAvro(dst []byte, v benchBid) []byte {
	dst = binary.AppendVarint(dst, v.Auction)
	dst = binary.AppendVarint(dst, v.Bidder)
	dst = binary.AppendVarint(dst, v.Price)
	dst = appendAvroString(dst, v.Channel)
	dst = appendAvroString(dst, v.URL)
	dst = binary.AppendVarint(dst, v.DateTime.UnixMilli())
	return appendAvroString(dst, v.Extra)
}

func decodeBidAvro(b []byte) (v benchBid, err error) {
	var ms int64
	for _, p := range []*int64{&v.Auction, &v.Bidder, &v.Price} {
		if *p, b, err = readAvroLong(b); err != nil {
			return v, err
		}
	}
	if v.Channel, b, err = readAvroString(b); err != nil {
		return v, err
	}
	if v.URL, b, err = readAvroString(b); err != nil {
		return v, err
	}
	if ms, b, err = readAvroLong(b); err != nil {
		return v, err
	}
	v.DateTime = time.UnixMilli(ms).UTC()
	if v.Extra, b, err = readAvroString(b); err != nil || len(b) != 0 {
		return v, errShort
	}
	return v, nil
}

// hambaOnly is T's Avro serde through hamba/avro alone: AvroWithSchema never
// takes the flat path that Avro[T] takes for flat records.
func hambaOnly[T any]() streams.AvroSerde[T] {
	return streams.AvroWithSchema[T](streams.Avro[T]().Schema())
}

// TestHandAvroMatchesLibrary keeps the benchmark honest: the hand-specialized
// code writes the library's bytes and reads them back to the same values.
func TestHandAvroMatchesLibrary(t *testing.T) {
	click, bid := hambaOnly[benchClick](), hambaOnly[benchBid]()
	lc, _ := click.Encode(nil, benchClickValue)
	lb, _ := bid.Encode(nil, benchBidValue)
	if hc := encodeClickAvro(nil, benchClickValue); string(hc) != string(lc) {
		t.Fatalf("click: hand %q, library %q", hc, lc)
	}
	if hb := encodeBidAvro(nil, benchBidValue); string(hb) != string(lb) {
		t.Fatalf("bid: hand %q, library %q", hb, lb)
	}
	if c, err := decodeClickAvro(lc); err != nil || c != benchClickValue {
		t.Fatalf("click: %+v, %v", c, err)
	}
	if b, err := decodeBidAvro(lb); err != nil || b != benchBidValue {
		t.Fatalf("bid: %+v, %v", b, err)
	}
}

func benchSerde[T any](b *testing.B, s streams.Serde[T], v T) {
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf, _ = s.Encode(buf[:0], v)
		}
	})
	data, _ := s.Encode(nil, v)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type handSerde[T any] struct {
	enc func([]byte, T) []byte
	dec func([]byte) (T, error)
}

func (h handSerde[T]) Encode(dst []byte, v T) ([]byte, error) { return h.enc(dst, v), nil }
func (h handSerde[T]) Decode(b []byte) (T, error)             { return h.dec(b) }

func BenchmarkAvroClick(b *testing.B) {
	v := benchClickValue
	b.Run("hamba", func(b *testing.B) { benchSerde(b, streams.Serde[benchClick](hambaOnly[benchClick]()), v) })
	b.Run("flat", func(b *testing.B) { benchSerde(b, streams.Serde[benchClick](streams.Avro[benchClick]()), v) })
	b.Run("specialized", func(b *testing.B) {
		benchSerde(b, streams.Serde[benchClick](handSerde[benchClick]{encodeClickAvro, decodeClickAvro}), v)
	})
	b.Run("encoding-json", func(b *testing.B) { benchSerde(b, streams.Serde[benchClick](streams.JSON[benchClick]()), v) })
}

func BenchmarkAvroBid(b *testing.B) {
	v := benchBidValue
	b.Run("hamba", func(b *testing.B) { benchSerde(b, streams.Serde[benchBid](hambaOnly[benchBid]()), v) })
	b.Run("flat", func(b *testing.B) { benchSerde(b, streams.Serde[benchBid](streams.Avro[benchBid]()), v) })
	b.Run("specialized", func(b *testing.B) {
		benchSerde(b, streams.Serde[benchBid](handSerde[benchBid]{encodeBidAvro, decodeBidAvro}), v)
	})
	b.Run("encoding-json", func(b *testing.B) { benchSerde(b, streams.Serde[benchBid](streams.JSON[benchBid]()), v) })
}
