package streams

import (
	"reflect"
	"time"

	"github.com/gofka/streams/internal/avroschema"
)

// Avro[T] derives its schema with package internal/avroschema (which documents
// the mapping from Go types to Avro), seeing T through reflect; gofkagen runs the
// same derivation on go/types at compile time (ir.AvroSchema).

var timeType = reflect.TypeFor[time.Time]()

// reflectType is a reflect.Type as avroschema sees it.
type reflectType struct{ t reflect.Type }

func (r reflectType) Kind() avroschema.Kind {
	if r.t == timeType {
		return avroschema.Time
	}
	switch r.t.Kind() {
	case reflect.String:
		return avroschema.String
	case reflect.Bool:
		return avroschema.Bool
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return avroschema.Int
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return avroschema.Long
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return avroschema.Unsigned64
	case reflect.Float32:
		return avroschema.Float
	case reflect.Float64:
		return avroschema.Double
	case reflect.Slice:
		if r.t.Elem().Kind() == reflect.Uint8 {
			return avroschema.Bytes
		}
		return avroschema.Array
	case reflect.Map:
		return avroschema.Map
	case reflect.Pointer:
		return avroschema.Pointer
	case reflect.Struct:
		return avroschema.Struct
	}
	return avroschema.Other
}

func (r reflectType) Elem() avroschema.Type { return reflectType{r.t.Elem()} }
func (r reflectType) StringKey() bool       { return r.t.Key().Kind() == reflect.String }
func (r reflectType) Name() string          { return r.t.Name() }
func (r reflectType) ID() any               { return r.t }
func (r reflectType) String() string        { return r.t.String() }

func (r reflectType) Fields() []avroschema.Field {
	fs := make([]avroschema.Field, r.t.NumField())
	for i := range fs {
		f := r.t.Field(i)
		fs[i] = avroschema.Field{Name: f.Name, Tag: f.Tag, Embedded: f.Anonymous, Exported: f.IsExported(), Type: reflectType{f.Type}}
	}
	return fs
}
