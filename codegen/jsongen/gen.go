package jsongen

import (
	"go/types"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/runtime/jsonwire"
)

// WirePath is the import path of the package generated serdes call.
const WirePath = "github.com/gofka/streams/runtime/jsonwire"

const wirePath = WirePath

// Gen collects the generated serdes of one file.
type Gen struct {
	pkg   *types.Package
	typ   func(types.Type) jen.Code // renders a type, importing its package
	name  func(string) string       // a package-level name free in the file
	enc   map[string]string         // type -> its encode function
	dec   map[string]string         // type -> its decode function
	todo  []func()                  // bodies to emit; names exist first, so types may recurse
	decls []jen.Code
}

// New returns a generator for the file of package pkg. typ renders a type and
// name hands out unused package-level names.
func New(pkg *types.Package, typ func(types.Type) jen.Code, name func(string) string) *Gen {
	return &Gen{pkg: pkg, typ: typ, name: name, enc: map[string]string{}, dec: map[string]string{}}
}

// Decls returns the declarations generated so far, in order.
func (g *Gen) Decls() []jen.Code { return g.decls }

// Serde generates a serde type for t and returns its name, or returns "" when t
// falls back to encoding/json (Fallback says why).
func (g *Gen) Serde(t types.Type) string {
	if reason, _ := Fallback(t, g.pkg); reason != "" {
		return ""
	}
	name := g.name("gofkaJSON" + word(t))
	enc, dec := g.encodeFunc(t), g.decodeFunc(t)
	ty := g.typ(t)
	g.decls = append(g.decls,
		jen.Commentf("%s is the JSON serde of %s: it encodes and decodes exactly as encoding/json", name, types.TypeString(t, types.RelativeTo(g.pkg))),
		jen.Comment("does, with the code below specialized to the type (see package runtime/jsonwire)."),
		jen.Type().Id(name).Struct(),
		jen.Line(),
		jen.Comment("Encode appends the JSON encoding of v."),
		jen.Func().Params(jen.Id(name)).Id("Encode").Params(jen.Id("dst").Index().Byte(), jen.Id("v").Add(ty)).
			Params(jen.Index().Byte(), jen.Error()).Block(
			jen.Id("e").Op(":=").Qual(wirePath, "NewEncoder").Call(jen.Id("dst")),
			call(enc, jen.Op("&").Id("e"), jen.Id("v")),
			jen.If(jen.Err().Op(":=").Id("e").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Id("dst"), jen.Err())),
			jen.Return(jen.Id("e").Dot("Buf"), jen.Nil()),
		),
		jen.Line(),
		jen.Comment("Decode parses data into a new value. Strings without escapes share data's memory."),
		jen.Func().Params(jen.Id(name)).Id("Decode").Params(jen.Id("data").Index().Byte()).
			Params(g.typ(t), jen.Error()).Block(
			jen.Var().Id("v").Add(g.typ(t)),
			jen.Id("d").Op(":=").Qual(wirePath, "NewDecoder").Call(jen.Id("data")),
			call(dec, jen.Op("&").Id("d"), jen.Op("&").Id("v")),
			jen.Return(jen.Id("v"), jen.Id("d").Dot("End").Call()),
		),
		jen.Line(),
	)
	for len(g.todo) > 0 {
		f := g.todo[0]
		g.todo = g.todo[1:]
		f()
	}
	return name
}

// fn is a function of the generated code or of jsonwire that encodes or decodes
// one type: func(*jsonwire.Encoder, T) or func(*jsonwire.Decoder, *T).
type fn struct {
	wire string     // a generic function of jsonwire, or
	arg  types.Type // its type argument
	gen  string     // a generated function
	g    *Gen
}

// value is fn as a function value (jsonwire's instantiated explicitly).
func (f fn) value() jen.Code {
	if f.gen != "" {
		return jen.Id(f.gen)
	}
	return jen.Qual(wirePath, f.wire).Types(f.g.typ(f.arg))
}

// call is a call of f (jsonwire's type argument inferred).
func call(f fn, args ...jen.Code) jen.Code {
	if f.gen != "" {
		return jen.Id(f.gen).Call(args...)
	}
	return jen.Qual(wirePath, f.wire).Call(args...)
}

var scalarWrite = map[kind]string{kBool: "WriteBool", kInt: "WriteInt", kUint: "WriteUint",
	kFloat32: "WriteFloat32", kFloat64: "WriteFloat64", kString: "WriteString", kBytes: "WriteBytes"}

var scalarRead = map[kind]string{kBool: "ReadBool", kInt: "ReadInt", kUint: "ReadUint",
	kFloat32: "ReadFloat32", kFloat64: "ReadFloat64", kString: "ReadString", kBytes: "ReadBytes"}

// lit renders a precomputed piece of JSON, as a raw string when it can.
func lit(s string) jen.Code {
	if !strings.ContainsAny(s, "`\r") && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return jen.Op("`" + s + "`")
	}
	return jen.Lit(s)
}

// memberName is a member's name as encoding/json writes it, with its colon.
func memberName(name string) string { return string(jsonwire.AppendString(nil, name)) + ":" }

// word names a type inside an identifier: Click, PtrClick, SliceOfItem.
func word(t types.Type) string {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		w := upperFirst(t.Obj().Name())
		for i := 0; i < t.TypeArgs().Len(); i++ {
			w += word(t.TypeArgs().At(i))
		}
		return w
	case *types.Pointer:
		return "Ptr" + word(t.Elem())
	case *types.Slice:
		return "SliceOf" + word(t.Elem())
	case *types.Array:
		return "ArrayOf" + word(t.Elem())
	case *types.Map:
		return "MapOf" + word(t.Elem())
	case *types.Basic:
		return upperFirst(t.Name())
	case *types.Struct:
		return "Struct"
	}
	return "Value"
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
