package streams_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gofka/streams"
	"github.com/gofka/streams/internal/testproto"
)

func sampleBid() *testproto.Bid {
	retries := int32(-3)
	return &testproto.Bid{
		Auction: 1001, Bidder: 2002, Price: 99, Channel: "ch", Url: "https://x/y",
		DateTime: timestamppb.New(timestampForTests),
		Extra:    "e",
		Kind:     testproto.Bid_KIND_BUY_NOW,
		Meta:     &testproto.Bid_Meta{Tags: []string{"t1"}, Counters: map[string]int64{"b": 2, "a": 1}},
		Retries:  &retries,
		Source:   &testproto.Bid_App{App: 7},
	}
}

// wireField is one field of a payload as protowire reads it.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint
	b   string // bytes
}

// parseWire splits a payload into its fields with protowire, independently of
// the proto package that wrote it.
func parseWire(t *testing.T, b []byte) []wireField {
	t.Helper()
	var out []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			var bs []byte
			bs, n = protowire.ConsumeBytes(b)
			f.b = string(bs)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out
}

func TestProtobufBytes(t *testing.T) {
	s := streams.Protobuf[*testproto.Click]()
	b, err := s.Encode(nil, &testproto.Click{User: "u1", Url: "/a", Bot: true})
	if err != nil {
		t.Fatal(err)
	}
	got := parseWire(t, b)
	want := []wireField{
		{num: 1, typ: protowire.BytesType, b: "u1"},
		{num: 2, typ: protowire.BytesType, b: "/a"},
		{num: 3, typ: protowire.VarintType, v: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("fields %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestProtobufBidFields(t *testing.T) {
	s := streams.Protobuf[*testproto.Bid]()
	b, err := s.Encode([]byte{0xEE}, sampleBid())
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xEE {
		t.Fatal("Encode did not append to dst")
	}
	byNum := map[protowire.Number]wireField{}
	for _, f := range parseWire(t, b[1:]) {
		byNum[f.num] = f
	}
	checks := []struct {
		num  protowire.Number
		want wireField
	}{
		{1, wireField{num: 1, typ: protowire.VarintType, v: 1001}},
		{3, wireField{num: 3, typ: protowire.VarintType, v: 99}},
		{5, wireField{num: 5, typ: protowire.BytesType, b: "https://x/y"}},
		{8, wireField{num: 8, typ: protowire.VarintType, v: 1}},
		{10, wireField{num: 10, typ: protowire.VarintType, v: protowire.EncodeZigZag(-3)}}, // sint32
		{12, wireField{num: 12, typ: protowire.VarintType, v: 7}},
	}
	for _, c := range checks {
		if got := byNum[c.num]; got != c.want {
			t.Errorf("field %d: %+v, want %+v", c.num, got, c.want)
		}
	}
	// the map is written sorted (deterministic): entry "a" before "b"
	meta := parseWire(t, []byte(byNum[9].b))
	var keys []string
	for _, f := range meta {
		if f.num == 2 {
			keys = append(keys, parseWire(t, []byte(f.b))[0].b)
		}
	}
	if len(keys) != 2 || keys[0] != "a" || keys[1] != "b" {
		t.Errorf("map entries in order %v, want [a b]", keys)
	}
}

func TestProtobufRoundTrip(t *testing.T) {
	s := streams.Protobuf[*testproto.Bid]()
	in := sampleBid()
	b, err := s.Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip: %v, want %v", out, in)
	}
	if _, err := s.Encode(nil, nil); err == nil {
		t.Error("encoding a nil message gave no error")
	}
	if _, err := s.Decode([]byte{0x0a, 0x05, 'a'}); err == nil {
		t.Error("decoding a truncated message gave no error")
	}
}
