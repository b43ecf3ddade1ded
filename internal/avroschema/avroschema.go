// Package avroschema derives an Avro schema from a Go type. The type is seen
// through the Type interface, which package streams implements over reflect (at
// run time, for Avro[T]) and package ir over go/types (at compile time, for
// gofkagen's checks and `gofkagen check --registry`): one derivation, so the
// schema gofkagen checks is the schema the program registers, and both refuse
// the same types.
//
// The mapping:
//
//	struct                      record (named after the Go type; nested records too)
//	string                      string
//	[]byte                      bytes
//	int8, int16, int32, uint8, uint16    int
//	int, int64, uint32          long
//	float32 / float64           float / double
//	bool                        boolean
//	[]E                         array of E
//	map[string]E                map of E
//	*E                          union ["null", E], default null
//	time.Time                   long with logicalType timestamp-millis (milliseconds; decoded in UTC)
//
// Records are named after their Go types (an unnamed struct after its field), with
// no namespace. Avro resolves a record written with one schema version into
// another by name, so renaming a Go type breaks reading older records: keep the
// name, or give the schema with AvroWithSchema.
//
// Field names come from `avro` tags when any struct of the type has one, else from
// `json` tags, else from the Go field name: the same rule the encoder (hamba/avro,
// configured with that tag key, see TagKey) uses to match schema fields to struct
// fields. A field tagged "-" is left out; embedded structs are flattened.
// Everything else (uint64, uint, interfaces, channels, functions, complex numbers,
// arrays, maps with other keys, pointers to pointers, embedded pointers) is
// refused, with the field's path.
package avroschema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// Kind is what a Go type is, as far as the mapping cares.
type Kind int

// The kinds. Unsigned64 (uint, uint64, uintptr) and Other have no Avro type.
const (
	Other Kind = iota
	String
	Bool
	Int
	Long
	Float
	Double
	Bytes
	Array
	Map
	Pointer
	Struct
	Time
	Unsigned64
)

// Type is a Go type seen through reflect or go/types.
type Type interface {
	Kind() Kind
	Elem() Type      // of an Array, a Map (its values) or a Pointer
	StringKey() bool // whether a Map's key is a string type
	Name() string    // a named type's name, else ""
	ID() any         // comparable identity, to meet a type again (recursion)
	String() string  // for messages
	Fields() []Field // of a Struct, in order
}

// Field is a struct field.
type Field struct {
	Name               string
	Tag                reflect.StructTag
	Embedded, Exported bool
	Type               Type
}

// TagKey is the struct tag field names come from: "avro" if any struct reachable
// from t has an avro tag, else "json".
func TagKey(t Type) string {
	if hasTag(t, "avro", map[any]bool{}) {
		return "avro"
	}
	return "json"
}

func hasTag(t Type, key string, seen map[any]bool) bool {
	if seen[t.ID()] {
		return false
	}
	seen[t.ID()] = true
	switch t.Kind() {
	case Pointer, Array, Map:
		return hasTag(t.Elem(), key, seen)
	case Struct:
		for _, f := range t.Fields() {
			if _, ok := f.Tag.Lookup(key); ok || hasTag(f.Type, key, seen) {
				return true
			}
		}
	}
	return false
}

// Derive returns the Avro schema (JSON) for t, with field names from TagKey(t),
// or why t has none.
func Derive(t Type) (string, error) {
	d := &deriver{tagKey: TagKey(t), defined: map[any]string{}, names: map[string]bool{}}
	s, err := d.schema(t, "", t.Name())
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(s)
	return string(b), err
}

type deriver struct {
	tagKey  string
	defined map[any]string // records already written out, by name
	names   map[string]bool
}

// Error says why a type has no Avro schema.
type Error struct {
	Path string // the field, e.g. "Sum[].N"; "" for the type itself
	Type string
	Why  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s %s", e.Type, e.Why)
	}
	return fmt.Sprintf("field %s has type %s, which %s", e.Path, e.Type, e.Why)
}

var primitives = map[Kind]any{
	String: "string", Bool: "boolean", Int: "int", Long: "long", Float: "float", Double: "double", Bytes: "bytes",
	Time: map[string]string{"type": "long", "logicalType": "timestamp-millis"},
}

// schema maps t; path names the field for errors, name is the record name to use
// if t is an unnamed struct.
func (d *deriver) schema(t Type, path, name string) (any, error) {
	if p, ok := primitives[t.Kind()]; ok {
		return p, nil
	}
	bad := func(why string) error { return &Error{Path: path, Type: t.String(), Why: why} }
	switch t.Kind() {
	case Array:
		items, err := d.schema(t.Elem(), path+"[]", name+"Item")
		return map[string]any{"type": "array", "items": items}, err
	case Map:
		if !t.StringKey() {
			return nil, bad("is a map whose keys are not strings, as Avro maps need")
		}
		values, err := d.schema(t.Elem(), path+"[]", name+"Value")
		return map[string]any{"type": "map", "values": values}, err
	case Pointer:
		if t.Elem().Kind() == Pointer {
			return nil, bad("is a pointer to a pointer, which has no Avro form")
		}
		elem, err := d.schema(t.Elem(), path, name)
		return []any{"null", elem}, err
	case Struct:
		return d.record(t, path, name)
	case Unsigned64:
		return nil, bad("has no Avro type (an Avro long is signed 64-bit)")
	}
	return nil, bad("has no Avro type")
}

// record maps a struct. A struct met again (twice in one value, or recursively)
// is referred to by name, as Avro requires.
func (d *deriver) record(t Type, path, name string) (any, error) {
	if full, ok := d.defined[t.ID()]; ok {
		return full, nil
	}
	if t.Name() != "" {
		name = t.Name()
	}
	name = avroName(name)
	for base, i := name, 2; d.names[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i) // two Go types with one name in different packages
	}
	d.names[name] = true
	d.defined[t.ID()] = name
	fields := []any{}
	err := d.fields(t, path, name, &fields)
	return map[string]any{"type": "record", "name": name, "fields": fields}, err
}

func (d *deriver) fields(t Type, path, record string, out *[]any) error {
	for _, f := range t.Fields() {
		fpath := f.Name
		if path != "" {
			fpath = path + "." + f.Name
		}
		if f.Embedded && f.Type.Kind() == Pointer && f.Type.Elem().Kind() == Struct {
			return &Error{Path: fpath, Type: f.Type.String(), Why: "is an embedded pointer to a struct: embed the struct itself"}
		}
		if f.Embedded && f.Type.Kind() == Struct {
			if err := d.fields(f.Type, path, record, out); err != nil {
				return err
			}
			continue
		}
		if !f.Exported {
			continue
		}
		fname := f.Name
		if tag, ok := f.Tag.Lookup(d.tagKey); ok {
			fname, _, _ = strings.Cut(tag, ",")
			if fname == "-" {
				continue
			}
			if fname == "" {
				return &Error{Path: fpath, Type: f.Type.String(), Why: "has a " + d.tagKey + " tag that gives no name; name it in the tag or add an avro tag"}
			}
		}
		s, err := d.schema(f.Type, fpath, record+"_"+f.Name)
		if err != nil {
			return err
		}
		field := map[string]any{"name": fname, "type": s}
		if f.Type.Kind() == Pointer {
			field["default"] = nil // so that adding an optional field stays BACKWARD compatible
		}
		*out = append(*out, field)
	}
	return nil
}

// avroName makes s a valid Avro name: letters, digits and _, not starting with a digit.
func avroName(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r))
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "Record"
	}
	return b.String()
}
