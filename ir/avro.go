package ir

import (
	"go/token"
	"go/types"
	"reflect"

	"github.com/gofka/streams/internal/avroschema"
)

// AvroSchema derives the Avro schema that streams.Avro[T]() uses for t, from
// go/types: the derivation is package internal/avroschema's, which the streams
// package runs on reflect at run time, so both give the same schema and refuse
// the same types. The error says why t has none; q prints the types it names.
func AvroSchema(t types.Type, q types.Qualifier) (string, error) {
	return avroschema.Derive(goType{t, q})
}

// AvroProblem says why streams.Avro[T]() cannot derive a schema for t, or returns "".
func AvroProblem(t types.Type, q types.Qualifier) string {
	if _, err := AvroSchema(t, q); err != nil {
		return err.Error()
	}
	return ""
}

// SchemaUse is a serde of a topology that writes to a schema registry
// (streams.Avro, AvroWithSchema or JSONSchema with a streams.Registry option whose
// subject is a constant): `gofkagen check --registry` checks its schema for
// compatibility with the subject's latest version, and `gofkagen schemas
// register` registers it, each reporting at Pos.
type SchemaUse struct {
	Pos     token.Position
	Subject string
	Type    string // the registry's schema type: AVRO or JSON
	Schema  string // as the serde registers it (Avro in canonical form)
}

// goType is a types.Type as avroschema sees it.
type goType struct {
	t types.Type
	q types.Qualifier
}

func (g goType) Kind() avroschema.Kind {
	if isTimeTime(g.t) {
		return avroschema.Time
	}
	switch u := g.t.Underlying().(type) {
	case *types.Basic:
		return basicKind(u)
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return avroschema.Bytes
		}
		return avroschema.Array
	case *types.Map:
		return avroschema.Map
	case *types.Pointer:
		return avroschema.Pointer
	case *types.Struct:
		return avroschema.Struct
	}
	return avroschema.Other
}

func basicKind(b *types.Basic) avroschema.Kind {
	switch b.Kind() {
	case types.String:
		return avroschema.String
	case types.Bool:
		return avroschema.Bool
	case types.Int8, types.Int16, types.Int32, types.Uint8, types.Uint16:
		return avroschema.Int
	case types.Int, types.Int64, types.Uint32:
		return avroschema.Long
	case types.Uint, types.Uint64, types.Uintptr:
		return avroschema.Unsigned64
	case types.Float32:
		return avroschema.Float
	case types.Float64:
		return avroschema.Double
	}
	return avroschema.Other
}

func (g goType) Elem() avroschema.Type {
	switch u := g.t.Underlying().(type) {
	case *types.Slice:
		return goType{u.Elem(), g.q}
	case *types.Map:
		return goType{u.Elem(), g.q}
	case *types.Pointer:
		return goType{u.Elem(), g.q}
	}
	return nil
}

func (g goType) StringKey() bool {
	b, ok := g.t.Underlying().(*types.Map).Key().Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func (g goType) Name() string {
	if n, ok := types.Unalias(g.t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// ID is the type's printed form with full package paths: types.Type values for
// one type are not always pointer-equal, but print the same.
func (g goType) ID() any        { return types.TypeString(g.t, nil) }
func (g goType) String() string { return types.TypeString(g.t, g.q) }

func (g goType) Fields() []avroschema.Field {
	s := g.t.Underlying().(*types.Struct)
	fs := make([]avroschema.Field, s.NumFields())
	for i := range fs {
		f := s.Field(i)
		fs[i] = avroschema.Field{Name: f.Name(), Tag: reflect.StructTag(s.Tag(i)), Embedded: f.Embedded(), Exported: f.Exported(), Type: goType{f.Type(), g.q}}
	}
	return fs
}

func isTimeTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}
