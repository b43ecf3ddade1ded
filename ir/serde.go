package ir

import (
	"fmt"
	"go/types"
	"reflect"
)

// DefaultSerde is the serde used for t when the user gives none: the streams
// package's binary serdes for strings, bytes, numbers and bools (and named types
// over them), JSON for structs and pointers to structs. It returns nil when t has
// no default serde.
func DefaultSerde(t types.Type) *Serde {
	name := defaultSerdeName(t)
	if name == "" {
		return nil
	}
	return &Serde{Type: t, Builtin: name}
}

func defaultSerdeName(t types.Type) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsString != 0:
			return "StringSerde"
		case u.Info()&types.IsInteger != 0:
			return "IntSerde"
		case u.Info()&types.IsFloat != 0:
			return "FloatSerde"
		case u.Info()&types.IsBoolean != 0:
			return "BoolSerde"
		}
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return "BytesSerde"
		}
	case *types.Struct:
		return "JSONSerde"
	case *types.Pointer:
		if _, ok := u.Elem().Underlying().(*types.Struct); ok {
			return "JSONSerde"
		}
	}
	return ""
}

// JSONProblem says why encoding/json cannot encode every value of type t, or
// returns "" when it can. encoding/json rejects channels, functions, complex
// numbers and unsafe pointers, and maps whose key is not a string, an integer or
// an encoding.TextMarshaler, wherever they sit in the value: in exported struct
// fields (not tagged json:"-"), elements or pointed-to values. A type with a
// MarshalJSON or MarshalText method encodes itself; an interface may hold
// anything, so it is not checked. q prints the types named in the answer.
func JSONProblem(t types.Type, q types.Qualifier) string {
	return jsonProblem(t, "", q, map[string]bool{})
}

func jsonProblem(t types.Type, path string, q types.Qualifier, seen map[string]bool) string {
	if hasMethod(t, "MarshalJSON", true) || hasMethod(t, "MarshalText", true) {
		return ""
	}
	if _, named := types.Unalias(t).(*types.Named); named {
		id := types.TypeString(t, nil)
		if seen[id] {
			return "" // checked, or being checked higher up a recursive type
		}
		seen[id] = true
	}
	bad := func() string {
		if path == "" {
			return fmt.Sprintf("encoding/json cannot encode a %s", types.TypeString(t, q))
		}
		return fmt.Sprintf("field %s has type %s, which encoding/json cannot encode", path, types.TypeString(t, q))
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Info()&types.IsComplex != 0 || u.Kind() == types.UnsafePointer {
			return bad()
		}
	case *types.Chan, *types.Signature:
		return bad()
	case *types.Pointer:
		return jsonProblem(u.Elem(), path, q, seen)
	case *types.Slice:
		return jsonProblem(u.Elem(), path+"[i]", q, seen)
	case *types.Array:
		return jsonProblem(u.Elem(), path+"[i]", q, seen)
	case *types.Map:
		if !jsonMapKey(u.Key()) {
			what := "a map"
			if path != "" {
				what = "field " + path + ", a map,"
			}
			return fmt.Sprintf("%s has key type %s, which encoding/json cannot encode: a JSON map key must be a string, an integer or an encoding.TextMarshaler", what, types.TypeString(u.Key(), q))
		}
		return jsonProblem(u.Elem(), path+"[k]", q, seen)
	case *types.Struct:
		return jsonFields(u, path, q, seen)
	}
	return ""
}

// jsonFields checks the fields encoding/json encodes: exported ones, and embedded
// structs (exported or not), except those tagged json:"-".
func jsonFields(s *types.Struct, path string, q types.Qualifier, seen map[string]bool) string {
	for i := 0; i < s.NumFields(); i++ {
		f := s.Field(i)
		if reflect.StructTag(s.Tag(i)).Get("json") == "-" {
			continue
		}
		if !f.Exported() {
			t := f.Type()
			if p, ok := t.Underlying().(*types.Pointer); ok {
				t = p.Elem()
			}
			if _, isStruct := t.Underlying().(*types.Struct); !f.Embedded() || !isStruct {
				continue
			}
		}
		fpath := f.Name()
		if path != "" {
			fpath = path + "." + f.Name()
		}
		if p := jsonProblem(f.Type(), fpath, q, seen); p != "" {
			return p
		}
	}
	return ""
}

// jsonMapKey reports whether encoding/json can encode a map key of type t.
func jsonMapKey(t types.Type) bool {
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 {
		return true
	}
	return hasMethod(t, "MarshalText", false)
}

// hasMethod reports whether t (or *t, if addressable) has a method name of type
// func() ([]byte, error), as json.Marshaler and encoding.TextMarshaler need.
func hasMethod(t types.Type, name string, addressable bool) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, addressable, nil, name)
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Signature()
	return sig.Params().Len() == 0 && sig.Results().Len() == 2
}
