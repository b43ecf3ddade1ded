package jsonwire

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
)

// The Read functions decode the next value into *p as encoding/json would: null
// leaves a string, number or bool as it is (and sets a pointer, slice or map to
// nil); a value of another kind is an error.

// ReadString decodes a JSON string.
func ReadString[T ~string](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	if d.peek() != '"' {
		d.mismatch("string")
		return
	}
	s, _ := d.readString(nil)
	if d.err == nil {
		*p = T(bytesString(s))
	}
}

// ReadBool decodes true or false.
func ReadBool[T ~bool](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	switch d.peek() {
	case 't':
		if d.literal("true") {
			*p = true
		}
	case 'f':
		if d.literal("false") {
			*p = false
		}
	default:
		d.mismatch("bool")
	}
}

// numberText returns the text of the number at the current position, or nil
// after recording an error (a value of another kind is a type error).
func (d *Decoder) numberText(what string) []byte {
	if c := d.peek(); c != '-' && !isDigit(c) {
		d.mismatch(what)
		return nil
	}
	start := d.pos
	n := d.number()
	if d.err == nil && n == nil {
		d.pos = start
	}
	return n
}

// Signed is the set of signed integer types.
type Signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}

// Unsigned is the set of unsigned integer types.
type Unsigned interface {
	~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// ReadInt decodes an integer: a number without fraction or exponent that fits T.
func ReadInt[T Signed](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	if n, ok := d.smallInt(); ok && int64(T(n)) == n {
		*p = T(n)
		return
	}
	start := d.pos
	text := d.numberText("integer")
	if text == nil {
		return
	}
	n, err := strconv.ParseInt(bytesString(text), 10, 64)
	if err != nil || int64(T(n)) != n {
		d.pos = start
		d.typeError("integer type (number " + string(text) + ")")
		return
	}
	*p = T(n)
}

// smallInt reads, when it can, an integer of at most 18 digits without
// fraction or exponent (so it cannot overflow int64) ending where a value may
// end; otherwise it consumes nothing and reports false, and the general path
// (with encoding/json's errors) runs.
func (d *Decoder) smallInt() (int64, bool) {
	c := d.peek()
	i, neg := d.pos, c == '-'
	if neg {
		i++
	}
	if i >= len(d.data) || !isDigit(d.data[i]) || d.data[i] == '0' && i+1 < len(d.data) && isDigit(d.data[i+1]) {
		return 0, false
	}
	var n int64
	digits := 0
	for ; i < len(d.data) && isDigit(d.data[i]); i++ {
		n = n*10 + int64(d.data[i]-'0')
		digits++
	}
	if digits > 18 || i < len(d.data) && (d.data[i] == '.' || d.data[i] == 'e' || d.data[i] == 'E') {
		return 0, false
	}
	d.pos = i
	if neg {
		n = -n
	}
	return n, true
}

// ReadUint decodes an unsigned integer.
func ReadUint[T Unsigned](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	start := d.pos
	text := d.numberText("unsigned integer")
	if text == nil {
		return
	}
	n, err := strconv.ParseUint(bytesString(text), 10, 64)
	if err != nil || uint64(T(n)) != n {
		d.pos = start
		d.typeError("unsigned integer type (number " + string(text) + ")")
		return
	}
	*p = T(n)
}

// ReadFloat64 decodes a number into a float64 type.
func ReadFloat64[T ~float64](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	start := d.pos
	text := d.numberText("float64")
	if text == nil {
		return
	}
	f, err := strconv.ParseFloat(bytesString(text), 64)
	if err != nil {
		d.pos = start
		d.typeError("float64 (number " + string(text) + ")")
		return
	}
	*p = T(f)
}

// ReadFloat32 decodes a number into a float32 type.
func ReadFloat32[T ~float32](d *Decoder, p *T) {
	if d.err != nil || d.Null() {
		return
	}
	start := d.pos
	text := d.numberText("float32")
	if text == nil {
		return
	}
	f, err := strconv.ParseFloat(bytesString(text), 32)
	if err != nil || math.Abs(f) > math.MaxFloat32 {
		d.pos = start
		d.typeError("float32 (number " + string(text) + ")")
		return
	}
	*p = T(f)
}

// ReadBytes decodes a base64 string (or null, or an array of numbers, which
// encoding/json also accepts) into a byte slice.
func ReadBytes[T ~[]byte](d *Decoder, p *T) {
	if d.err != nil {
		return
	}
	if d.Null() {
		*p = nil
		return
	}
	switch d.peek() {
	case '[':
		ReadStd(d, p)
		return
	case '"':
	default:
		d.mismatch("[]byte")
		return
	}
	s, _ := d.readString(nil)
	if d.err != nil {
		return
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		d.Fail(err)
		return
	}
	*p = T(b[:n])
}

// ReadPtr decodes into the value *p points to, allocating it when *p is nil;
// null sets *p to nil.
func ReadPtr[T any](d *Decoder, p **T, read func(*Decoder, *T)) {
	if d.err != nil {
		return
	}
	if d.Null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	read(d, *p)
}

// ReadSlice decodes an array into *p as encoding/json does: elements decode into
// the slice's existing storage (merging into what is there), and an empty array
// gives an empty, non-nil slice; null sets *p to nil.
func ReadSlice[T any](d *Decoder, p *[]T, read func(*Decoder, *T)) {
	if d.err != nil {
		return
	}
	if d.Null() {
		*p = nil
		return
	}
	s := *p
	i := 0
	for more := d.OpenArray("slice"); more; more = d.NextElement() {
		if i >= cap(s) {
			var zero T
			s = append(s[:i], zero)
		}
		s = s[:i+1]
		read(d, &s[i])
		i++
	}
	if d.err != nil {
		return
	}
	if i == 0 {
		s = []T{}
	}
	*p = s[:i]
}

// ReadMap decodes an object into a map with string keys: each member's value
// decodes into a fresh T; null sets *p to nil.
func ReadMap[K ~string, T any](d *Decoder, p *map[K]T, read func(*Decoder, *T)) {
	if d.err != nil {
		return
	}
	if d.Null() {
		*p = nil
		return
	}
	m := *p
	for more := d.OpenObject("map"); more; more = d.NextMember() {
		if m == nil {
			m = map[K]T{}
			*p = m
		}
		key := K(d.key)
		var v T
		read(d, &v)
		if d.err != nil {
			return
		}
		m[key] = v
	}
	if d.err == nil && m == nil {
		*p = map[K]T{}
	}
}

// ReadUnmarshaler hands the next value, validated, to p's UnmarshalJSON, as
// encoding/json does (null included). Generated code calls the method itself
// where it can: if raw := d.Raw(); raw != nil { d.Fail(v.F.UnmarshalJSON(raw)) }.
func ReadUnmarshaler[P json.Unmarshaler](d *Decoder, p P) {
	if raw := d.Raw(); raw != nil {
		d.Fail(p.UnmarshalJSON(raw))
	}
}

// ReadTextUnmarshaler hands the next value, a string, unquoted, to p's
// UnmarshalText; null leaves the value as it is. For types that are not
// pointers, slices, maps or interfaces (codegen checks).
func ReadTextUnmarshaler[P encoding.TextUnmarshaler](d *Decoder, p P) {
	if s, ok := d.Text(); ok {
		d.Fail(p.UnmarshalText(s))
	}
}

// Text reads the next value for an UnmarshalText method: a string, unquoted,
// is returned with true; null is skipped (false); another kind is an error.
func (d *Decoder) Text() ([]byte, bool) {
	if d.err != nil || d.Null() {
		return nil, false
	}
	if d.peek() != '"' {
		d.mismatch("encoding.TextUnmarshaler")
		return nil, false
	}
	s, _ := d.readString(nil)
	return s, d.err == nil
}

// ReadStd decodes the next value with encoding/json, for the types generated
// code does not handle itself.
func ReadStd[P any](d *Decoder, p P) {
	raw := d.Raw()
	if d.err == nil {
		d.Fail(json.Unmarshal(raw, p))
	}
}
