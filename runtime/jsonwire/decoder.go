package jsonwire

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's limit on nesting: deeper input is an error.
const maxDepth = 10000

// Decoder reads one JSON text. The zero value is not usable: make one with
// NewDecoder. It keeps the first error; after it, every method does nothing.
type Decoder struct {
	data  []byte
	pos   int
	depth int
	err   error
	key   []byte   // the current member's name, unescaped (see Key)
	keys  []byte   // room for names with escapes, reused (key may alias the input instead)
	fold  [32]byte // room for FoldedKey, so short names fold without allocating
}

// NewDecoder returns a decoder over data.
func NewDecoder(data []byte) Decoder { return Decoder{data: data} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// End checks that only whitespace follows the value and returns the first error.
func (d *Decoder) End() error {
	if d.err == nil {
		if c := d.peek(); c != 0 || d.pos < len(d.data) {
			d.syntax("after top-level value")
		}
	}
	return d.err
}

// Fail records err unless an earlier error is recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) syntax(context string) {
	if d.pos >= len(d.data) {
		d.Fail(errors.New("json: unexpected end of JSON input"))
		return
	}
	d.Fail(fmt.Errorf("json: invalid character %q %s (offset %d)", d.data[d.pos], context, d.pos))
}

func (d *Decoder) typeError(what string) {
	d.Fail(fmt.Errorf("json: cannot unmarshal %s into %s (offset %d)", d.kindAt(), what, d.pos))
}

// kindAt names the kind of the value at the current position, for errors.
func (d *Decoder) kindAt() string {
	switch d.peek() {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *Decoder) peek() byte {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return c
		}
	}
	return 0
}

// Null consumes a null literal and reports whether there was one. A value
// that is not null is left in place.
func (d *Decoder) Null() bool {
	if d.err != nil || d.peek() != 'n' {
		return false
	}
	return d.literal("null")
}

func (d *Decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	for i := 0; i < len(lit); i++ { // point the error at the first wrong byte
		if d.pos+i >= len(d.data) || d.data[d.pos+i] != lit[i] {
			d.pos += i
			break
		}
	}
	d.syntax("in literal " + lit)
	return false
}

// push enters an object or array, failing past encoding/json's depth limit.
func (d *Decoder) push() bool {
	d.depth++
	if d.depth > maxDepth {
		d.Fail(errors.New("json: exceeded max depth"))
		return false
	}
	return true
}

// OpenObject consumes '{' and, when the object has a member, its name and ':'.
// It reports whether there is a member; Key returns its name. A value that is
// not an object is a type error, what names the Go type it was meant for.
func (d *Decoder) OpenObject(what string) bool {
	if d.err != nil {
		return false
	}
	if d.peek() != '{' {
		d.mismatch(what)
		return false
	}
	d.pos++
	if !d.push() {
		return false
	}
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return false
	}
	return d.memberName()
}

// NextMember consumes ',' and the next member's name and ':', or the closing '}'
// (then it reports false).
func (d *Decoder) NextMember() bool {
	if d.err != nil {
		return false
	}
	switch d.peek() {
	case ',':
		d.pos++
		return d.memberName()
	case '}':
		d.pos++
		d.depth--
		return false
	}
	d.syntax("after object key:value pair")
	return false
}

func (d *Decoder) memberName() bool {
	if d.peek() != '"' {
		d.syntax("looking for beginning of object key string")
		return false
	}
	key, unescaped := d.readString(d.keys[:0])
	if unescaped {
		d.keys = key
	}
	d.key = key
	if d.err != nil {
		return false
	}
	if d.peek() != ':' {
		d.syntax("after object key")
		return false
	}
	d.pos++
	return true
}

// Key returns the current member's name, unescaped. It is valid until the next
// call of OpenObject or NextMember.
func (d *Decoder) Key() []byte { return d.key }

// FoldedKey returns the current member's name folded as encoding/json folds
// names to match them case-insensitively (see Fold).
func (d *Decoder) FoldedKey() []byte { return Fold(d.fold[:0], d.key) }

// Fold appends name to dst folded as encoding/json folds field names: ASCII
// letters to upper case, other runes to the smallest rune of their fold set.
func Fold(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// mismatch records a type error for a value of the wrong kind, unless the value
// is malformed, which is then the error (encoding/json checks syntax first).
func (d *Decoder) mismatch(what string) {
	start := d.pos
	d.Skip()
	if d.err == nil {
		d.pos = start
		d.typeError(what)
	}
}

// OpenArray consumes '[' and reports whether an element follows.
func (d *Decoder) OpenArray(what string) bool {
	if d.err != nil {
		return false
	}
	if d.peek() != '[' {
		d.mismatch(what)
		return false
	}
	d.pos++
	if !d.push() {
		return false
	}
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// NextElement consumes ',' and reports true, or the closing ']' and reports false.
func (d *Decoder) NextElement() bool {
	if d.err != nil {
		return false
	}
	switch d.peek() {
	case ',':
		d.pos++
		return true
	case ']':
		d.pos++
		d.depth--
		return false
	}
	d.syntax("after array element")
	return false
}

// Skip validates the next value and moves past it.
func (d *Decoder) Skip() {
	if d.err != nil {
		return
	}
	switch c := d.peek(); {
	case c == '{':
		for more := d.OpenObject(""); more; more = d.NextMember() {
			d.Skip()
		}
	case c == '[':
		for more := d.OpenArray(""); more; more = d.NextElement() {
			d.Skip()
		}
	case c == '"':
		d.skipString()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		d.number()
	default:
		d.syntax("looking for beginning of value")
	}
}

// Raw validates the next value and returns its bytes (aliasing the input).
func (d *Decoder) Raw() []byte {
	d.peek()
	start := d.pos
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos]
}

// number scans a number with JSON's grammar and returns its text.
func (d *Decoder) number() []byte {
	start, i, data := d.pos, d.pos, d.data
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	default:
		d.pos = i
		d.syntax("in numeric literal")
		return nil
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			d.syntax("after decimal point in numeric literal")
			return nil
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			d.pos = i
			d.syntax("in exponent of numeric literal")
			return nil
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	d.pos = i
	return data[start:i]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipString validates a string (d.pos at its quote) and moves past it.
func (d *Decoder) skipString() {
	d.pos++
	for d.pos < len(d.data) {
		if d.pos+8 <= len(d.data) && !stringStops(word8(d.data[d.pos:])) {
			d.pos += 8
			continue
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return
		case c == '\\':
			if !d.escape() {
				return
			}
		case c < 0x20:
			d.syntax("in string literal")
			return
		default:
			d.pos++
		}
	}
	d.syntax("in string literal")
}

// escape validates the escape at d.pos and moves past it.
func (d *Decoder) escape() bool {
	if d.pos+1 >= len(d.data) {
		d.pos = len(d.data)
		d.syntax("in string escape code")
		return false
	}
	switch d.data[d.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		d.pos += 2
		return true
	case 'u':
		for i := 2; i < 6; i++ {
			if d.pos+i >= len(d.data) || hexValue(d.data[d.pos+i]) < 0 {
				d.pos += i
				d.syntax("in \\u hexadecimal character escape")
				return false
			}
		}
		d.pos += 6
		return true
	}
	d.pos++
	d.syntax("in string escape code")
	return false
}

func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// readString reads the string at d.pos (at its quote). When it has no escapes
// and is valid UTF-8 it returns a slice of the input; otherwise it appends the
// unescaped text to buf, as encoding/json unquotes: invalid UTF-8 and lone
// surrogates become U+FFFD. unescaped reports the second case.
func (d *Decoder) readString(buf []byte) (s []byte, unescaped bool) {
	start := d.pos + 1
	// Fast path: ASCII without escapes or control characters, up to the quote.
	i := start
	for i+8 <= len(d.data) {
		if x := word8(d.data[i:]); x&highs != 0 || stringStops(x) {
			break
		}
		i += 8
	}
	for ; i < len(d.data); i++ {
		if c := d.data[i]; !plainASCII[c] {
			if c == '"' {
				d.pos = i + 1
				return d.data[start:i], false
			}
			break
		}
	}
	d.skipString()
	if d.err != nil {
		return nil, false
	}
	s = d.data[start : d.pos-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			return unquote(buf, s), true
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			return unquote(buf, s), true
		}
		i += n
	}
	return s, false
}

// unquote appends the unescaped form of s, a validated string body.
func unquote(buf, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != unicode.ReplacementChar {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default: // '"', '\\', '/'
				buf = append(buf, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			buf = utf8.AppendRune(buf, r)
			i += n
		}
	}
	return buf
}

func hex4(b []byte) rune {
	return hexValue(b[0])<<12 | hexValue(b[1])<<8 | hexValue(b[2])<<4 | hexValue(b[3])
}

// bytesString returns b as a string without copying.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// word8 loads 8 bytes little-endian.
func word8(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// stringStops reports, for 8 bytes at once, whether any is a quote, a
// backslash or a control character: the bytes a string scan must stop at.
func stringStops(x uint64) bool {
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	return (x-ones*0x20)&^x&highs|hasZero(x^(ones*'"'))|hasZero(x^(ones*'\\')) != 0
}

// plainASCII reports the bytes a string's fast path copies as they are:
// ASCII other than control characters, the quote and the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
