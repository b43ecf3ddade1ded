package jsonwire

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestAppendStringMatchesEncodingJSON: every byte value, at every position of
// the 8-byte fast path and last in strings of every length to 18, and runes that need escaping, as encoding/json writes them.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain ascii text", "\u2028\u2029 é 😀", "\xff\xfe", "a\xe2\x80", "<&>\"\\/"}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 9; pos++ {
			inputs = append(inputs, strings.Repeat("a", pos)+string(rune(c))+"bbbbbbbbb", strings.Repeat("a", pos)+string([]byte{byte(c)})+"bbbbbbbbb")
		}
		for pos := 0; pos < 18; pos++ { // last, where the tail check overlaps the 8-byte blocks
			inputs = append(inputs, strings.Repeat("a", pos)+string(rune(c)), strings.Repeat("a", pos)+string([]byte{byte(c)}))
		}
	}
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestFloatsMatchEncodingJSON: the format switches at 1e-6 and 1e21, and the
// float32 rules, as encoding/json formats them.
func TestFloatsMatchEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-6, 9.99e-7, 1e20, 1e21, 123456789e13, 5e-324, math.MaxFloat64, 0.1, 1.0 / 3} {
		e := NewEncoder(nil)
		WriteFloat64(&e, f)
		want, _ := json.Marshal(f)
		if string(e.Buf) != string(want) {
			t.Errorf("float64 %v: %s, want %s", f, e.Buf, want)
		}
		e = NewEncoder(nil)
		WriteFloat32(&e, float32(f))
		want, _ = json.Marshal(float32(f))
		if string(e.Buf) != string(want) {
			t.Errorf("float32 %v: %s, want %s", float32(f), e.Buf, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		e := NewEncoder(nil)
		if WriteFloat64(&e, f); e.Err() == nil {
			t.Errorf("%v: no error", f)
		}
	}
}

// TestAppendCompact: what a MarshalJSON returns is validated, compacted and
// HTML-escaped as encoding/json does.
func TestAppendCompact(t *testing.T) {
	for _, src := range []string{`{"a" : [1, 2], "s": "x <&> \u2028 \" \\"}`, "\"\xe2\x80\xa8\"", `1`, ` true `, `"plain"`} {
		got, err := AppendCompact(nil, []byte(src))
		var want bytes.Buffer
		json.Compact(&want, []byte(src))
		var esc bytes.Buffer
		json.HTMLEscape(&esc, want.Bytes())
		if err != nil || string(got) != esc.String() {
			t.Errorf("AppendCompact(%q) = %s, %v; want %s", src, got, err, esc.String())
		}
	}
	for _, src := range []string{``, `{`, `1 2`, `{"a":}`} {
		if _, err := AppendCompact(nil, []byte(src)); err == nil {
			t.Errorf("AppendCompact(%q): no error", src)
		}
	}
}

// TestDepthLimit: nesting deeper than encoding/json's 10000 levels is an error,
// as it is there; 10000 levels are not.
func TestDepthLimit(t *testing.T) {
	for _, depth := range []int{10000, 10001} {
		data := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		d := NewDecoder(data)
		d.Skip()
		err := d.End()
		var v any
		want := json.Unmarshal(data, &v)
		if (err == nil) != (want == nil) {
			t.Errorf("depth %d: error %v, encoding/json's %v", depth, err, want)
		}
	}
}

// TestReadStringMatchesEncodingJSON: every byte value at every position of the
// 8-byte fast path, raw and escaped, decodes as encoding/json decodes it, or
// fails where it fails.
func TestReadStringMatchesEncodingJSON(t *testing.T) {
	var inputs []string
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 10; pos++ {
			pad := strings.Repeat("a", pos)
			inputs = append(inputs, `"`+pad+string([]byte{byte(c)})+`bbbbbbbbbb"`, `"`+pad+`\`+string([]byte{byte(c)})+`bbbbbbbbb"`)
		}
	}
	inputs = append(inputs, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\u00"`, `"abc`, `"`, `"\`, "\"\xed\xa0\x80\"")
	for _, in := range inputs {
		checkRead(t, in, ReadString[string])
	}
}

// TestReadNumbersMatchEncodingJSON: integers at and past the limits of each
// width, with fractions and exponents, as encoding/json accepts or rejects
// them, and the same texts as floats.
func TestReadNumbersMatchEncodingJSON(t *testing.T) {
	for _, in := range []string{"0", "-0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "32767", "65535", "65536",
		"2147483647", "2147483648", "4294967295", "4294967296", "999999999999999999", "1000000000000000000",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "1.0", "1e2", "1E2", "01", "-", "- 1", "1.", "null", `"1"`, "true", "{}", "[]"} {
		checkRead(t, in, ReadInt[int8])
		checkRead(t, in, ReadInt[int32])
		checkRead(t, in, ReadInt[int64])
		checkRead(t, in, ReadUint[uint8])
		checkRead(t, in, ReadUint[uint64])
		checkRead(t, in, ReadFloat32[float32])
		checkRead(t, in, ReadFloat64[float64])
	}
}

// checkRead decodes in with read and with encoding/json and compares.
func checkRead[T comparable](t *testing.T, in string, read func(*Decoder, *T)) {
	var got, want T
	wantErr := json.Unmarshal([]byte(in), &want)
	d := NewDecoder([]byte(in))
	read(&d, &got)
	if err := d.End(); (err == nil) != (wantErr == nil) || err == nil && got != want {
		t.Errorf("%T %q: %v, %v; encoding/json %v, %v", got, in, got, err, want, wantErr)
	}
}
