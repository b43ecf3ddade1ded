package ir

import (
	"fmt"
	"go/types"
	"reflect"
	"strings"
)

// AvroProblem says why streams.Avro[T]() cannot derive an Avro schema for t, or
// returns "" when it can. It follows the mapping of the streams package's
// avro_schema.go (which does the same on reflect.Type at run time): strings,
// []byte, bools, floats, the integers that fit an Avro int or long (not uint,
// uint64 or uintptr), slices, maps with string keys, pointers (a union with
// null; not a pointer to a pointer), time.Time and structs. Field names come
// from avro tags if any struct of t has one, else json tags; a tag that gives no
// name (json:",omitempty") is a problem, since the name would be empty. q prints
// the types named in the answer.
func AvroProblem(t types.Type, q types.Qualifier) string {
	key := "json"
	if avroHasTag(t, "avro", map[types.Type]bool{}) {
		key = "avro"
	}
	return avroProblem(t, "", key, q, map[types.Type]bool{})
}

func avroProblem(t types.Type, path, key string, q types.Qualifier, seen map[types.Type]bool) string {
	if isTimeTime(t) {
		return ""
	}
	bad := func(why string) string {
		if path == "" {
			return fmt.Sprintf("%s %s", types.TypeString(t, q), why)
		}
		return fmt.Sprintf("field %s has type %s, which %s", path, types.TypeString(t, q), why)
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&(types.IsString|types.IsBoolean|types.IsFloat) != 0 && u.Info()&types.IsComplex == 0:
			return ""
		case u.Info()&types.IsInteger != 0:
			switch u.Kind() {
			case types.Uint, types.Uint64, types.Uintptr:
				return bad("has no Avro type (an Avro long is signed 64-bit)")
			}
			return ""
		}
		return bad("has no Avro type")
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return ""
		}
		return avroProblem(u.Elem(), path+"[i]", key, q, seen)
	case *types.Map:
		if b, ok := u.Key().Underlying().(*types.Basic); !ok || b.Info()&types.IsString == 0 {
			return bad("is a map whose keys are not strings, as Avro maps need")
		}
		return avroProblem(u.Elem(), path+"[k]", key, q, seen)
	case *types.Pointer:
		if _, ok := u.Elem().Underlying().(*types.Pointer); ok {
			return bad("is a pointer to a pointer, which has no Avro form")
		}
		return avroProblem(u.Elem(), path, key, q, seen)
	case *types.Struct:
		if seen[t] {
			return ""
		}
		seen[t] = true
		return avroFields(u, path, key, q, seen)
	}
	return bad("has no Avro type")
}

func avroFields(s *types.Struct, path, key string, q types.Qualifier, seen map[types.Type]bool) string {
	for i := range s.NumFields() {
		f := s.Field(i)
		if f.Embedded() {
			if p, ok := f.Type().Underlying().(*types.Pointer); ok {
				if _, ok := p.Elem().Underlying().(*types.Struct); ok {
					return fmt.Sprintf("embedded field %s is a pointer to a struct: embed the struct itself", f.Name())
				}
			}
			if st, ok := f.Type().Underlying().(*types.Struct); ok {
				if p := avroFields(st, path, key, q, seen); p != "" {
					return p
				}
				continue
			}
		}
		if !f.Exported() {
			continue
		}
		fpath := f.Name()
		if path != "" {
			fpath = path + "." + f.Name()
		}
		if tag, ok := reflect.StructTag(s.Tag(i)).Lookup(key); ok {
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if name == "" {
				return fmt.Sprintf("field %s: its %s tag gives no name", fpath, key)
			}
		}
		if p := avroProblem(f.Type(), fpath, key, q, seen); p != "" {
			return p
		}
	}
	return ""
}

func avroHasTag(t types.Type, key string, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return avroHasTag(u.Elem(), key, seen)
	case *types.Slice:
		return avroHasTag(u.Elem(), key, seen)
	case *types.Array:
		return avroHasTag(u.Elem(), key, seen)
	case *types.Map:
		return avroHasTag(u.Elem(), key, seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if _, ok := reflect.StructTag(u.Tag(i)).Lookup(key); ok || avroHasTag(u.Field(i).Type(), key, seen) {
				return true
			}
		}
	}
	return false
}

func isTimeTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}
