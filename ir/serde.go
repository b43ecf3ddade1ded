package ir

import "go/types"

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
