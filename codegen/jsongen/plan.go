package jsongen

import (
	"fmt"
	"go/types"

	"github.com/gofka/streams/runtime/jsonwire"
)

// kind is how generated code encodes or decodes a value of some type.
type kind int

const (
	kStd       kind = iota // hand the value to encoding/json
	kMarshaler             // call MarshalJSON / UnmarshalJSON
	kText                  // call MarshalText / UnmarshalText
	kBool                  // the scalars, by their underlying type
	kInt                   //
	kUint                  //
	kFloat32               //
	kFloat64               //
	kString                //
	kBytes                 // base64
	kPtr                   // null or the element
	kSlice                 // null or an array
	kMap                   // null or an object; string keys
	kStruct                // an object of the fields structFields finds
)

// The signatures encoding/json looks for.
const (
	marshalSig   = "func() ([]byte, error)"
	unmarshalSig = "func([]byte) error"
)

// hasMethod reports whether t's method set has a method name with signature sig.
func hasMethod(t types.Type, name, sig string) bool {
	sel := types.NewMethodSet(t).Lookup(nil, name)
	if sel == nil {
		return false
	}
	return plainSig(sel.Type().(*types.Signature)) == sig
}

// plainSig prints a signature without parameter names.
func plainSig(s *types.Signature) string {
	str := "func("
	for i := 0; i < s.Params().Len(); i++ {
		if i > 0 {
			str += ", "
		}
		str += types.TypeString(s.Params().At(i).Type(), nil)
	}
	str += ")"
	switch s.Results().Len() {
	case 0:
	case 1:
		str += " " + types.TypeString(s.Results().At(0).Type(), nil)
	default:
		str += " ("
		for i := 0; i < s.Results().Len(); i++ {
			if i > 0 {
				str += ", "
			}
			str += types.TypeString(s.Results().At(i).Type(), nil)
		}
		str += ")"
	}
	return str
}

func isNamed(t types.Type) bool {
	_, ok := types.Unalias(t).(*types.Named)
	return ok
}

func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

func isJSONNumber(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "encoding/json" && n.Obj().Name() == "Number"
}

// scalar returns the kind of a bool, integer, float or string type, or kStd.
func scalar(t types.Type) kind {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return kStd
	}
	switch {
	case b.Kind() == types.UnsafePointer || b.Info()&types.IsComplex != 0:
		return kStd
	case b.Info()&types.IsBoolean != 0:
		return kBool
	case b.Info()&types.IsUnsigned != 0:
		return kUint
	case b.Info()&types.IsInteger != 0:
		return kInt
	case b.Kind() == types.Float32:
		return kFloat32
	case b.Info()&types.IsFloat != 0:
		return kFloat64
	case b.Info()&types.IsString != 0:
		return kString
	}
	return kStd
}

// encodeKind says how a value of type t, not addressable, is encoded, in
// encoding/json's order: MarshalJSON, MarshalText, then by kind.
func encodeKind(t types.Type) kind {
	switch {
	case hasMethod(t, "MarshalJSON", marshalSig):
		return kMarshaler
	case hasMethod(t, "MarshalText", marshalSig):
		return kText
	case isJSONNumber(t):
		return kStd
	}
	return structural(t, false)
}

// decodeKind says how a value of type t, always addressable, is decoded, in
// encoding/json's order: UnmarshalJSON, UnmarshalText, then by kind.
func decodeKind(t types.Type) kind {
	switch {
	case isNamed(t) && hasMethod(types.NewPointer(t), "UnmarshalJSON", unmarshalSig):
		return kMarshaler
	case isNamed(t) && hasMethod(types.NewPointer(t), "UnmarshalText", unmarshalSig):
		switch t.Underlying().(type) {
		case *types.Pointer, *types.Slice, *types.Map, *types.Interface:
			return kStd // null sets these to nil, not handled by ReadTextUnmarshaler
		}
		return kText
	case !isNamed(t) && types.NewMethodSet(types.NewPointer(t)).Len() > 0:
		return kStd // an unnamed struct with promoted methods: rare, left to encoding/json
	case isJSONNumber(t):
		return kStd
	}
	return structural(t, true)
}

// structural is the kind of t by its underlying type.
func structural(t types.Type, decode bool) kind {
	if k := scalar(t); k != kStd {
		return k
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		if isNamed(t) {
			return kStd
		}
		return kPtr
	case *types.Slice:
		if b, ok := types.Unalias(u.Elem()).(*types.Basic); ok && b.Kind() == types.Byte {
			return kBytes
		}
		if scalar(u.Elem()) == kUint && u.Elem().Underlying().(*types.Basic).Kind() == types.Uint8 {
			return kStd // []T of a named byte type: encoding/json's base64 rules depend on T's methods
		}
		return kSlice
	case *types.Map:
		if scalar(u.Key()) == kString && types.NewMethodSet(types.NewPointer(u.Key())).Len() == 0 && isStringKey(u.Key()) {
			return kMap
		}
	case *types.Struct:
		return kStruct
	}
	return kStd
}

// isStringKey: the generated map code converts keys with K(string), which needs
// K's underlying type to be string itself.
func isStringKey(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.String
}

// check walks the types a root type reaches and says why it cannot be
// generated (then the whole type falls back to encoding/json), or lists the
// types inside it left to encoding/json.
type check struct {
	pkg     *types.Package
	seen    map[string]bool
	problem string
	std     []string // types handed to encoding/json, with why
	stdSeen map[string]bool
}

func newCheck(pkg *types.Package) *check {
	return &check{pkg: pkg, seen: map[string]bool{}, stdSeen: map[string]bool{}}
}

func (c *check) fail(format string, args ...any) {
	if c.problem == "" {
		c.problem = fmt.Sprintf(format, args...)
	}
}

func (c *check) q(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == c.pkg {
			return ""
		}
		return p.Name()
	})
}

func (c *check) noteStd(t types.Type, why string) {
	if s := c.q(t); !c.stdSeen[s] {
		c.stdSeen[s] = true
		c.std = append(c.std, s+" ("+why+")")
	}
}

// accessible reports whether generated code in c.pkg can name t.
func (c *check) accessible(t types.Type) bool {
	ok := true
	var walk func(types.Type)
	walk = func(t types.Type) {
		switch t := types.Unalias(t).(type) {
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil && (obj.Pkg() != c.pkg && !obj.Exported() || obj.Parent() != obj.Pkg().Scope()) {
				ok = false // unexported elsewhere, or declared inside a function
			}
			for i := 0; i < t.TypeArgs().Len(); i++ {
				walk(t.TypeArgs().At(i))
			}
		case *types.TypeParam:
			ok = false
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				walk(t.Field(i).Type())
			}
		case *types.Interface:
			ok = ok && t.Empty()
		case *types.Chan, *types.Signature:
			ok = false
		}
	}
	walk(t)
	return ok
}

// walk visits t as a value that is decoded and, when byValue, encoded by value
// (not through a pointer whose own methods encode it).
func (c *check) walk(t types.Type, byValue bool) {
	key := fmt.Sprint(types.TypeString(t, nil), byValue)
	if c.seen[key] || c.problem != "" {
		return
	}
	c.seen[key] = true
	if !c.accessible(t) {
		c.fail("%s is not accessible from the generated code (unexported in another package, declared in a function, or a type parameter)", c.q(t))
		return
	}
	_, isPtr := t.Underlying().(*types.Pointer)
	if byValue && !isPtr && (ptrOnly(t, "MarshalJSON") || ptrOnly(t, "MarshalText")) {
		c.fail("%s has MarshalJSON or MarshalText on its pointer receiver only, which encoding/json calls only for addressable values", c.q(t))
		return
	}
	enc, dec := encodeKind(t), decodeKind(t)
	if !byValue {
		enc = kMarshaler // encoded by the pointer's method, not here
	}
	if enc == kStd || dec == kStd {
		c.noteStd(t, stdReason(t))
	}
	if enc == kStd && dec == kStd {
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		c.walk(u.Elem(), enc == kPtr)
	case *types.Slice:
		c.walk(u.Elem(), true)
	case *types.Map:
		c.walk(u.Elem(), true)
	case *types.Struct:
		if enc == kStruct || dec == kStruct {
			c.walkStruct(t)
		}
	}
}

// ptrOnly reports whether *t has method name but t does not.
func ptrOnly(t types.Type, name string) bool {
	return !hasMethod(t, name, marshalSig) && hasMethod(types.NewPointer(t), name, marshalSig)
}

func (c *check) walkStruct(t types.Type) {
	for _, f := range structFields(t) {
		switch {
		case f.quoted:
			c.fail("field %s of %s has the \",string\" option, left to encoding/json", f.path[len(f.path)-1].Name(), c.q(t))
		case f.omitZero:
			c.fail("field %s of %s has the \"omitzero\" option, left to encoding/json", f.path[len(f.path)-1].Name(), c.q(t))
		}
		for _, v := range f.path[:len(f.path)-1] {
			if _, ok := v.Type().Underlying().(*types.Pointer); ok {
				c.fail("%s embeds the pointer %s: promoted fields through embedded pointers are left to encoding/json", c.q(t), c.q(v.Type()))
			}
			if !v.Exported() && v.Pkg() != c.pkg {
				c.fail("%s embeds the unexported %s of another package", c.q(t), v.Name())
			}
		}
		c.walk(f.typ, true)
	}
}

func stdReason(t types.Type) string {
	switch {
	case isJSONNumber(t):
		return "json.Number"
	}
	switch t.Underlying().(type) {
	case *types.Interface:
		return "an interface: the dynamic type is known only at run time"
	case *types.Array:
		return "arrays are left to encoding/json"
	case *types.Map:
		return "map keys other than plain strings are left to encoding/json"
	case *types.Pointer:
		return "a named pointer type"
	case *types.Slice:
		return "a slice of a named byte type"
	case *types.Struct:
		return "an unnamed struct with promoted methods"
	}
	return "left to encoding/json"
}

// Fallback says why values of type t are encoded with encoding/json as a whole,
// or returns "" when gofkagen generates their serde; std lists the types inside
// t that the generated serde still hands to encoding/json, and why.
func Fallback(t types.Type, pkg *types.Package) (reason string, std []string) {
	c := newCheck(pkg)
	if encodeKind(t) == kStd && decodeKind(t) == kStd {
		return stdReason(t), nil
	}
	c.walk(t, true)
	if c.problem != "" {
		return c.problem, nil
	}
	return "", c.std
}

func foldName(name string) []byte { return jsonwire.Fold(nil, []byte(name)) }
