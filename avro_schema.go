package streams

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// This file derives an Avro schema from a Go type, for Avro[T]. The mapping:
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
// configured with that tag key) uses to match schema fields to struct fields, so
// the schema and the encoder cannot disagree. A field tagged "-" is left out.
// Embedded structs are flattened, as encoding/json does. Everything else (uint64,
// uint, interfaces, channels, functions, complex numbers, maps with other keys) is
// refused with the field path; gofkagen runs the same check on go/types at compile
// time (ir.AvroProblem), so a program that compiles does not meet this error.

var timeType = reflect.TypeFor[time.Time]()

// avroTagKey is the struct tag the field names of t come from: "avro" if any
// struct reachable from t has an avro tag, else "json".
func avroTagKey(t reflect.Type) string {
	if hasTag(t, "avro", map[reflect.Type]bool{}) {
		return "avro"
	}
	return "json"
}

func hasTag(t reflect.Type, key string, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Array:
		return hasTag(t.Elem(), key, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if _, ok := f.Tag.Lookup(key); ok || hasTag(f.Type, key, seen) {
				return true
			}
		}
	}
	return false
}

// avroSchemaOf returns the Avro schema (JSON) for t, with field names from tagKey.
func avroSchemaOf(t reflect.Type, tagKey string) (string, error) {
	d := &avroDeriver{tagKey: tagKey, defined: map[reflect.Type]string{}}
	s, err := d.schema(t, "", t.Name())
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(s)
	return string(b), err
}

type avroDeriver struct {
	tagKey  string
	defined map[reflect.Type]string // records already written out, by full name
	names   map[string]bool
}

// schema maps t; path names the field for errors, name is the record name to use
// if t is an unnamed struct.
func (d *avroDeriver) schema(t reflect.Type, path, name string) (any, error) {
	if t == timeType {
		return map[string]string{"type": "long", "logicalType": "timestamp-millis"}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return "int", nil
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "long", nil
	case reflect.Float32:
		return "float", nil
	case reflect.Float64:
		return "double", nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes", nil
		}
		items, err := d.schema(t.Elem(), path+"[]", name+"Item")
		return map[string]any{"type": "array", "items": items}, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, avroErr(path, t, "Avro maps have string keys")
		}
		values, err := d.schema(t.Elem(), path+"[]", name+"Value")
		return map[string]any{"type": "map", "values": values}, err
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return nil, avroErr(path, t, "a pointer to a pointer has no Avro form")
		}
		elem, err := d.schema(t.Elem(), path, name)
		return []any{"null", elem}, err
	case reflect.Struct:
		return d.record(t, path, name)
	}
	return nil, avroErr(path, t, "it has no Avro type")
}

func avroErr(path string, t reflect.Type, why string) error {
	if path == "" {
		return fmt.Errorf("avro: cannot encode %s: %s", t, why)
	}
	return fmt.Errorf("avro: field %s has type %s: %s", path, t, why)
}

// record maps a struct. A struct met again (twice in one value, or recursively)
// is referred to by name, as Avro requires.
func (d *avroDeriver) record(t reflect.Type, path, name string) (any, error) {
	if full, ok := d.defined[t]; ok {
		return full, nil
	}
	if t.Name() != "" {
		name = t.Name()
	}
	name = avroName(name)
	if d.names == nil {
		d.names = map[string]bool{}
	}
	for base, i := name, 2; d.names[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i) // two Go types with one name in different packages
	}
	d.names[name] = true
	d.defined[t] = name
	var fields []any
	err := d.fields(t, path, name, &fields)
	return map[string]any{"type": "record", "name": name, "fields": fields}, err
}

func (d *avroDeriver) fields(t reflect.Type, path, record string, out *[]any) error {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			return fmt.Errorf("avro: embedded field %s is a pointer to a struct: embed the struct itself", f.Name)
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := d.fields(f.Type, path, record, out); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		fname := f.Name
		if tag, ok := f.Tag.Lookup(d.tagKey); ok {
			fname, _, _ = strings.Cut(tag, ",")
			if fname == "-" {
				continue
			}
			if fname == "" {
				return fmt.Errorf("avro: field %s: its %s tag gives no name; name it in the tag or add an avro tag", strings.TrimPrefix(path+"."+f.Name, "."), d.tagKey)
			}
		}
		fpath := f.Name
		if path != "" {
			fpath = path + "." + f.Name
		}
		s, err := d.schema(f.Type, fpath, record+"_"+f.Name)
		if err != nil {
			return err
		}
		field := map[string]any{"name": fname, "type": s}
		if f.Type.Kind() == reflect.Pointer {
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
