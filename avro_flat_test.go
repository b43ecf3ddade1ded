package streams_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofka/streams"
)

// flatAll has a field of every kind the flat path handles.
type flatAll struct {
	S   string    `avro:"s"`
	B   []byte    `avro:"b"`
	OK  bool      `avro:"ok"`
	I8  int8      `avro:"i8"`
	I16 int16     `avro:"i16"`
	I32 int32     `avro:"i32"`
	U8  uint8     `avro:"u8"`
	U16 uint16    `avro:"u16"`
	U32 uint32    `avro:"u32"`
	I   int       `avro:"i"`
	I64 int64     `avro:"i64"`
	F32 float32   `avro:"f32"`
	F64 float64   `avro:"f64"`
	T   time.Time `avro:"t"`
	Out string    `avro:"-"`
	low int
}

func randomFlat(r *rand.Rand) flatAll {
	str := func() string { return strings.Repeat("é", r.IntN(5)) + strings.Repeat("x", r.IntN(200)) }
	return flatAll{
		S: str(), B: []byte(str()), OK: r.IntN(2) == 1,
		I8: int8(r.Int()), I16: int16(r.Int()), I32: int32(r.Int()), U8: uint8(r.Int()), U16: uint16(r.Int()), U32: r.Uint32(),
		I: int(r.Int64()) - math.MaxInt64/2, I64: r.Int64() - math.MaxInt64/2,
		F32: float32(r.NormFloat64()), F64: r.NormFloat64() * 1e300,
		T: time.UnixMilli(r.Int64N(1<<45) - 1<<44).UTC(),
	}
}

// TestAvroFlatMatchesHamba writes random flat records with the flat path and
// with hamba/avro alone (AvroWithSchema over the same schema), compares the
// bytes, and reads each one's bytes with the other.
func TestAvroFlatMatchesHamba(t *testing.T) {
	flat, lib := streams.Avro[flatAll](), hambaOnly[flatAll]()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		v := randomFlat(r)
		a, err := flat.Encode(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		b, err := lib.Encode(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("record %d %+v:\nflat  %x\nhamba %x", i, v, a, b)
		}
		x, err := flat.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		y, err := lib.Decode(a)
		if err != nil {
			t.Fatal(err)
		}
		v.Out = ""
		if !reflect.DeepEqual(x, v) || !reflect.DeepEqual(y, v) {
			t.Fatalf("record %d: flat reads %+v, hamba reads %+v, want %+v", i, x, y, v)
		}
	}
}

func TestAvroFlatRefusesBadInput(t *testing.T) {
	type small struct {
		N  int8 `avro:"n"`
		OK bool `avro:"ok"`
	}
	s := streams.Avro[small]()
	for _, c := range []struct {
		in   string
		want string
	}{
		{"", "ends early"},
		{"\x02", "bad boolean"},
		{"\x02\x02", "bad boolean"},
		{"\x02\x01\x00", "left over"},
		{"\x80\x02\x01", "does not fit a int8"}, // 128
	} {
		if v, err := s.Decode([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%q) = %+v, %v; want an error with %q", c.in, v, err, c.want)
		}
	}
	type str struct {
		S string `avro:"s"`
	}
	for _, in := range []string{"\x06ab", "\x01", "\x80"} {
		if v, err := streams.Avro[str]().Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", in, v)
		}
	}
}
