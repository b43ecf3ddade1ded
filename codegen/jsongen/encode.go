package jsongen

import (
	"go/types"

	"github.com/dave/jennifer/jen"
)

// encodeFunc returns the function that encodes a value of type t, generating it
// (its body later, from g.todo) on first use.
func (g *Gen) encodeFunc(t types.Type) fn {
	k := encodeKind(t)
	_, isPtr := t.Underlying().(*types.Pointer)
	switch {
	case isTime(t): // the common timestamp: same bytes as its MarshalJSON, written in place
		return fn{wire: "WriteTime", arg: t, g: g}
	case k == kMarshaler && !isPtr:
		return fn{wire: "WriteMarshaler", arg: t, g: g}
	case k == kText && !isPtr:
		return fn{wire: "WriteTextMarshaler", arg: t, g: g}
	case k == kStd:
		return fn{wire: "WriteStd", arg: t, g: g}
	case scalarWrite[k] != "":
		return fn{wire: scalarWrite[k], arg: t, g: g}
	}
	key := types.TypeString(t, nil)
	if name, ok := g.enc[key]; ok {
		return fn{gen: name}
	}
	name := g.name("gofkaJSONEncode" + word(t))
	g.enc[key] = name
	g.todo = append(g.todo, func() { g.emitEncode(name, t, k) })
	return fn{gen: name}
}

// emitEncode declares func name(e *jsonwire.Encoder, v t).
func (g *Gen) emitEncode(name string, t types.Type, k kind) {
	v, e := jen.Id("v"), jen.Id("e")
	var body []jen.Code
	switch k {
	case kMarshaler, kText, kPtr: // a pointer: null, or what it points to
		body = append(body, jen.If(v.Clone().Op("==").Nil()).Block(jen.Id("e").Dot("Raw").Call(jen.Lit("null")), jen.Return()))
		switch k {
		case kMarshaler:
			body = append(body, e.Clone().Dot("Marshaled").Call(v.Clone().Dot("MarshalJSON").Call()))
		case kText:
			body = append(body, e.Clone().Dot("MarshaledText").Call(v.Clone().Dot("MarshalText").Call()))
		default:
			body = append(body, call(g.encodeFunc(t.Underlying().(*types.Pointer).Elem()), e, jen.Op("*").Id("v")))
		}
	case kSlice:
		body = append(body, jen.Qual(wirePath, "WriteSlice").Call(e, g.asUnderlying(t, false), g.encodeFunc(t.Underlying().(*types.Slice).Elem()).value()))
	case kMap:
		body = append(body, jen.Qual(wirePath, "WriteMap").Call(e, g.asUnderlying(t, false), g.encodeFunc(t.Underlying().(*types.Map).Elem()).value()))
	case kStruct:
		body = g.encodeStruct(t)
	}
	g.decls = append(g.decls,
		jen.Commentf("%s appends v as encoding/json encodes a value of type %s.", name, types.TypeString(t, types.RelativeTo(g.pkg))),
		jen.Func().Id(name).Params(jen.Id("e").Op("*").Qual(wirePath, "Encoder"), jen.Id("v").Add(g.typ(t))).Block(body...),
		jen.Line())
}

// encodeStmt encodes x, of type t. Methods are called directly, not through
// jsonwire's generic wrappers, so that the value does not escape.
func (g *Gen) encodeStmt(t types.Type, x *jen.Statement) jen.Code {
	e := jen.Id("e")
	switch f := g.encodeFunc(t); f.wire {
	case "WriteMarshaler":
		return e.Dot("Marshaled").Call(x.Dot("MarshalJSON").Call())
	case "WriteTextMarshaler":
		return e.Dot("MarshaledText").Call(x.Dot("MarshalText").Call())
	default:
		return call(f, e, x)
	}
}

// selector is v.A.B for a field's path.
func selector(f field) *jen.Statement {
	s := jen.Id("v")
	for _, p := range f.path {
		s = s.Dot(p.Name())
	}
	return s
}

// encodeStruct writes the members in field order, omitting empty omitempty
// fields. Separators known when generating are folded into the member names;
// only while the first member written depends on omitted fields does a
// variable hold the next separator.
func (g *Gen) encodeStruct(t types.Type) []jen.Code {
	const (
		first   = iota // nothing written yet
		written        // something written
		dynamic        // depends on omitted fields: in variable sep
	)
	state := first
	var body []jen.Code
	sep := jen.Id("sep")
	for _, f := range structFields(t) {
		write := g.encodeStmt(f.typ, selector(f))
		name := memberName(f.name)
		if !f.omitEmpty {
			switch state {
			case first:
				body = append(body, jen.Id("e").Dot("Raw").Call(lit("{"+name)), write)
			case written:
				body = append(body, jen.Id("e").Dot("Raw").Call(lit(","+name)), write)
			case dynamic:
				body = append(body, jen.Id("e").Dot("Byte").Call(sep), jen.Id("e").Dot("Raw").Call(lit(name)), write)
			}
			state = written
			continue
		}
		switch state {
		case written: // the separator is a comma whether or not the field is written
			body = append(body, jen.If(nonEmpty(f.typ, selector(f))).Block(jen.Id("e").Dot("Raw").Call(lit(","+name)), write))
			continue
		case first:
			body = append(body, jen.Id("sep").Op(":=").Byte().Parens(jen.LitRune('{')))
			state = dynamic
		}
		body = append(body, jen.If(nonEmpty(f.typ, selector(f))).Block(
			jen.Id("e").Dot("Byte").Call(sep),
			jen.Id("sep").Op("=").LitRune(','),
			jen.Id("e").Dot("Raw").Call(lit(name)),
			write,
		))
	}
	switch state {
	case first:
		body = append(body, jen.Id("e").Dot("Raw").Call(lit("{}")))
	case written:
		body = append(body, jen.Id("e").Dot("Byte").Call(jen.LitRune('}')))
	case dynamic:
		body = append(body,
			jen.If(sep.Clone().Op("==").LitRune('{')).Block(jen.Id("e").Dot("Byte").Call(jen.LitRune('{'))),
			jen.Id("e").Dot("Byte").Call(jen.LitRune('}')))
	}
	return body
}

// nonEmpty is the condition under which an omitempty field is written:
// encoding/json's isEmptyValue, negated.
func nonEmpty(t types.Type, x *jen.Statement) jen.Code {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return x
		case u.Info()&types.IsString != 0:
			return jen.Len(x).Op("!=").Lit(0)
		default:
			return x.Op("!=").Lit(0)
		}
	case *types.Slice, *types.Map:
		return jen.Len(x).Op("!=").Lit(0)
	case *types.Array:
		return jen.Lit(u.Len() != 0)
	case *types.Pointer, *types.Interface:
		return x.Op("!=").Nil()
	}
	return jen.True() // structs are never empty
}
