package jsonwire

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Encoder appends one JSON text to Buf. It keeps the first error; after it the
// appended bytes are meaningless and the caller discards them.
type Encoder struct {
	Buf []byte
	err error
}

// NewEncoder returns an encoder that appends to dst.
func NewEncoder(dst []byte) Encoder { return Encoder{Buf: dst} }

// Err returns the first error met, or nil.
func (e *Encoder) Err() error { return e.err }

// Fail records err unless an earlier error is recorded.
func (e *Encoder) Fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Raw appends s as it is: punctuation and precomputed member names.
func (e *Encoder) Raw(s string) { e.Buf = append(e.Buf, s...) }

// Byte appends c.
func (e *Encoder) Byte(c byte) { e.Buf = append(e.Buf, c) }

// WriteString appends s as a JSON string, escaped as encoding/json escapes it.
func WriteString[T ~string](e *Encoder, s T) { e.Buf = AppendString(e.Buf, string(s)) }

// WriteBool appends true or false.
func WriteBool[T ~bool](e *Encoder, v T) { e.Buf = strconv.AppendBool(e.Buf, bool(v)) }

// WriteInt appends a signed integer.
func WriteInt[T Signed](e *Encoder, v T) { e.Buf = appendInt64(e.Buf, int64(v)) }

// WriteUint appends an unsigned integer.
func WriteUint[T Unsigned](e *Encoder, v T) { e.Buf = appendUint64(e.Buf, uint64(v)) }

// WriteFloat64 appends a float64 as encoding/json formats it; NaN and the
// infinities are errors.
func WriteFloat64[T ~float64](e *Encoder, v T) { e.float(float64(v), 64) }

// WriteFloat32 appends a float32 as encoding/json formats it.
func WriteFloat32[T ~float32](e *Encoder, v T) { e.float(float64(v), 32) }

func (e *Encoder) float(f float64, bits int) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.Fail(fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, bits)))
		return
	}
	// Like ES6: the shortest decimal, in exponent form only for very small or
	// large magnitudes, with e-07 cleaned up to e-7.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b := strconv.AppendFloat(e.Buf, f, format, -1, bits)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.Buf = b
}

// WriteBytes appends a byte slice as a base64 string; nil is null.
func WriteBytes[T ~[]byte](e *Encoder, v T) {
	if v == nil {
		e.Raw("null")
		return
	}
	e.Buf = append(e.Buf, '"')
	e.Buf = base64.StdEncoding.AppendEncode(e.Buf, v)
	e.Buf = append(e.Buf, '"')
}

// WriteSlice appends a slice as an array; nil is null.
func WriteSlice[T any](e *Encoder, s []T, write func(*Encoder, T)) {
	if s == nil {
		e.Raw("null")
		return
	}
	e.Buf = append(e.Buf, '[')
	for i, v := range s {
		if i > 0 {
			e.Buf = append(e.Buf, ',')
		}
		write(e, v)
	}
	e.Buf = append(e.Buf, ']')
}

// WriteMap appends a map with string keys as an object, keys sorted; nil is null.
func WriteMap[K ~string, T any](e *Encoder, m map[K]T, write func(*Encoder, T)) {
	if m == nil {
		e.Raw("null")
		return
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int { return strings.Compare(string(a), string(b)) })
	e.Buf = append(e.Buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.Buf = append(e.Buf, ',')
		}
		e.Buf = AppendString(e.Buf, string(k))
		e.Buf = append(e.Buf, ':')
		write(e, m[k])
	}
	e.Buf = append(e.Buf, '}')
}

// WriteMarshaler appends what v's MarshalJSON returns (see Marshaled).
func WriteMarshaler[T json.Marshaler](e *Encoder, v T) { e.Marshaled(v.MarshalJSON()) }

// Marshaled appends b, what a MarshalJSON method returned, checked and
// compacted with <, >, & and U+2028/U+2029 escaped, as encoding/json does.
// Generated code calls the method itself and hands its results here.
func (e *Encoder) Marshaled(b []byte, err error) {
	if err == nil {
		e.Buf, err = AppendCompact(e.Buf, b)
	}
	if err != nil {
		e.Fail(fmt.Errorf("json: error calling MarshalJSON: %w", err))
	}
}

// WriteTextMarshaler appends what v's MarshalText returns (see MarshaledText).
func WriteTextMarshaler[T encoding.TextMarshaler](e *Encoder, v T) { e.MarshaledText(v.MarshalText()) }

// MarshaledText appends b, what a MarshalText method returned, as a JSON string.
func (e *Encoder) MarshaledText(b []byte, err error) {
	if err != nil {
		e.Fail(fmt.Errorf("json: error calling MarshalText: %w", err))
		return
	}
	e.Buf = AppendString(e.Buf, bytesString(b))
}

// WriteStd appends v encoded by encoding/json, for the types generated code does
// not handle itself.
func WriteStd[T any](e *Encoder, v T) {
	b, err := json.Marshal(v)
	if err != nil {
		e.Fail(err)
		return
	}
	e.Buf = append(e.Buf, b...)
}

// AppendCompact appends src, which must be one JSON value, without insignificant
// whitespace and with <, >, & and U+2028/U+2029 escaped, as encoding/json
// treats what a MarshalJSON method returns.
func AppendCompact(dst, src []byte) ([]byte, error) {
	d := NewDecoder(src)
	d.Skip()
	if err := d.End(); err != nil {
		return dst, err
	}
	if !slices.ContainsFunc(src, needsCompacting) {
		return append(dst, src...), nil // the common case: a method that writes compact JSON
	}
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
			i += 2
		case inString:
			dst = append(dst, c)
			if c == '\\' {
				i++
				dst = append(dst, src[i])
			} else if c == '"' {
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			dst = append(dst, c)
			inString = c == '"'
		}
	}
	return dst, nil
}

// needsCompacting reports the bytes that make AppendCompact rewrite its input.
func needsCompacting(c byte) bool {
	return c <= ' ' || c == '<' || c == '>' || c == '&' || c == 0xE2
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped exactly as encoding/json does
// by default: ", \ and control characters, the HTML-sensitive <, > and &, and
// U+2028 and U+2029; invalid UTF-8 becomes \ufffd.
func AppendString(dst []byte, s string) []byte {
	i := safePrefix(s)
	dst = append(dst, '"')
	if i == len(s) { // the common case: nothing to escape, one copy
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s, i)
}

// safePrefix returns len(s) when AppendString copies all of s as it is, and
// otherwise a length of s's prefix that it copies as it is.
func safePrefix(s string) int {
	n := len(s)
	if n < 8 {
		i := 0
		for i < n && s[i] < utf8.RuneSelf && htmlSafe[s[i]] {
			i++
		}
		return i
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		if !safe8(load8(s, i)) {
			return i
		}
	}
	if i < n && !safe8(load8(s, n-8)) { // the tail, as the last 8 bytes
		return i
	}
	return n
}

// appendEscaped appends s[:i], which needs no escaping, and the rest of s
// escaped, and the closing quote.
func appendEscaped(dst []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		if i+8 <= len(s) && safe8(load8(s, i)) {
			i += 8
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// safe8 reports whether the 8 bytes of x are all htmlSafe ASCII, testing them
// at once: no byte below 0x20 or from 0x80, none of " \\ < > &. Once bytes
// from 0x80 are ruled out (the high bits of x), a byte equal to c is a zero
// byte of x^c, found by the borrow of subtracting one; " and & (0x22, 0x26)
// differ only in bit 2, < and > (0x3c, 0x3e) in bit 1, so setting that bit
// tests both at once. A borrow can flag a byte above a flagged one, never
// one alone: the answer for the 8 bytes is exact.
func safe8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	bad := x | (x - ones*0x20) | // from 0x80, below 0x20
		(((x | ones*0x04) ^ ones*'&') - ones) | // " or &
		(((x | ones*0x02) ^ ones*'>') - ones) | // < or >
		((x ^ ones*'\\') - ones)
	return bad&highs == 0
}

// load8 returns s[i:i+8] as a little-endian word (one load: the compiler
// merges the byte loads).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// htmlSafe reports the ASCII bytes AppendString copies as they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// WriteTime appends t as encoding/json does, through Time.MarshalJSON: the
// RFC 3339 text with nanoseconds, quoted; a year outside [0,9999] is an error.
// A time in UTC (or another zone of offset zero) is formatted here, the rest
// by Time.AppendText, which writes the same text as MarshalJSON into e.Buf;
// either way the time needs neither MarshalJSON's buffer nor a check of its
// output (the text has nothing to escape).
func WriteTime(e *Encoder, t time.Time) {
	b := append(e.Buf, '"')
	b, ok := appendTimeUTC(b, t)
	if !ok {
		var err error
		if b, err = t.AppendText(b); err != nil {
			e.Fail(fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err))
			return
		}
	}
	e.Buf = append(b, '"')
}
