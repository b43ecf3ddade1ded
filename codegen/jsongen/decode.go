package jsongen

import (
	"go/types"

	"github.com/dave/jennifer/jen"
)

// decodeFunc returns the function that decodes into a value of type t,
// generating it (its body later, from g.todo) on first use.
func (g *Gen) decodeFunc(t types.Type) fn {
	k := decodeKind(t)
	switch {
	case k == kMarshaler:
		return fn{wire: "ReadUnmarshaler", arg: types.NewPointer(t), g: g}
	case k == kText:
		return fn{wire: "ReadTextUnmarshaler", arg: types.NewPointer(t), g: g}
	case k == kStd:
		return fn{wire: "ReadStd", arg: types.NewPointer(t), g: g}
	case scalarRead[k] != "":
		return fn{wire: scalarRead[k], arg: t, g: g}
	}
	key := types.TypeString(t, nil)
	if name, ok := g.dec[key]; ok {
		return fn{gen: name}
	}
	name := g.name("gofkaJSONDecode" + word(t))
	g.dec[key] = name
	g.todo = append(g.todo, func() { g.emitDecode(name, t, k) })
	return fn{gen: name}
}

// emitDecode declares func name(d *jsonwire.Decoder, v *t).
func (g *Gen) emitDecode(name string, t types.Type, k kind) {
	d, v := jen.Id("d"), jen.Id("v")
	var body []jen.Code
	var lookup []jen.Code
	switch k {
	case kPtr:
		body = append(body, jen.Qual(wirePath, "ReadPtr").Call(d, v, g.decodeFunc(t.Underlying().(*types.Pointer).Elem()).value()))
	case kSlice:
		body = append(body, jen.Qual(wirePath, "ReadSlice").Call(d, g.asUnderlying(t, true), g.decodeFunc(t.Underlying().(*types.Slice).Elem()).value()))
	case kMap:
		body = append(body, jen.Qual(wirePath, "ReadMap").Call(d, g.asUnderlying(t, true), g.decodeFunc(t.Underlying().(*types.Map).Elem()).value()))
	case kStruct:
		body, lookup = g.decodeStruct(name, t)
	}
	g.decls = append(g.decls,
		jen.Commentf("%s decodes into *v as encoding/json decodes into a value of type %s.", name, types.TypeString(t, types.RelativeTo(g.pkg))),
		jen.Func().Id(name).Params(jen.Id("d").Op("*").Qual(wirePath, "Decoder"), jen.Id("v").Op("*").Add(g.typ(t))).Block(body...),
		jen.Line())
	g.decls = append(g.decls, lookup...)
}

// asUnderlying is v (or, pointer, the pointer v) converted to t's underlying
// type when t is named, for jsonwire's generic slice and map functions, which
// cannot infer their type arguments from a named type behind a pointer.
func (g *Gen) asUnderlying(t types.Type, pointer bool) jen.Code {
	if !isNamed(t) {
		return jen.Id("v")
	}
	if pointer {
		return jen.Parens(jen.Op("*").Add(g.typ(t.Underlying()))).Call(jen.Id("v"))
	}
	return jen.Add(g.typ(t.Underlying())).Call(jen.Id("v"))
}

// decodeStmt decodes into x, of type t. Methods are called directly, not
// through jsonwire's generic wrappers, so that the value does not escape.
func (g *Gen) decodeStmt(t types.Type, x *jen.Statement) jen.Code {
	d := jen.Id("d")
	switch f := g.decodeFunc(t); f.wire {
	case "ReadUnmarshaler":
		return jen.If(jen.Id("raw").Op(":=").Id("d").Dot("Raw").Call(), jen.Id("raw").Op("!=").Nil()).Block(
			d.Dot("Fail").Call(x.Dot("UnmarshalJSON").Call(jen.Id("raw"))))
	case "ReadTextUnmarshaler":
		return jen.If(jen.List(jen.Id("s"), jen.Id("ok")).Op(":=").Id("d").Dot("Text").Call(), jen.Id("ok")).Block(
			d.Dot("Fail").Call(x.Dot("UnmarshalText").Call(jen.Id("s"))))
	default:
		return call(f, d, jen.Op("&").Add(x))
	}
}

// decodeStruct reads an object member by member: a known name decodes into its
// field (merging into what is there, so a repeated name's last value wins),
// others are skipped; null leaves the struct as it is.
func (g *Gen) decodeStruct(name string, t types.Type) (body, lookup []jen.Code) {
	fields := structFields(t)
	what := types.TypeString(t, types.RelativeTo(g.pkg))
	loop := func(inner ...jen.Code) jen.Code {
		return jen.For(jen.Id("more").Op(":=").Id("d").Dot("OpenObject").Call(jen.Lit(what)), jen.Id("more"),
			jen.Id("more").Op("=").Id("d").Dot("NextMember").Call()).Block(inner...)
	}
	body = []jen.Code{jen.If(jen.Id("d").Dot("Null").Call()).Block(jen.Return())}
	if len(fields) == 0 {
		return append(body, loop(jen.Id("d").Dot("Skip").Call())), nil
	}
	field := g.name(name[:len("gofkaJSON")] + "Field" + name[len("gofkaJSONDecode"):])
	var cases []jen.Code
	for i, f := range fields {
		cases = append(cases, jen.Case(jen.Lit(i)).Block(g.decodeStmt(f.typ, selector(f))))
	}
	cases = append(cases, jen.Default().Block(jen.Id("d").Dot("Skip").Call()))
	body = append(body, loop(jen.Switch(jen.Id(field).Call(jen.Id("d"))).Block(cases...)))
	return body, g.fieldLookup(field, what, fields)
}

// fieldLookup declares the function that maps a member name to a field index as
// encoding/json matches names: exactly, else by folded name (the first field
// with that folded name), else -1.
func (g *Gen) fieldLookup(name, what string, fields []field) []jen.Code {
	var exact, folded []jen.Code
	seen := map[string]bool{}
	for i, f := range fields {
		exact = append(exact, jen.Case(jen.Lit(f.name)).Block(jen.Return(jen.Lit(i))))
		key := string(foldName(f.name))
		if !seen[key] {
			seen[key] = true
			folded = append(folded, jen.Case(jen.Lit(key)).Block(jen.Return(jen.Lit(i))))
		}
	}
	return []jen.Code{
		jen.Commentf("%s returns the index of the field of %s that the current member names, -1 for none.", name, what),
		jen.Func().Id(name).Params(jen.Id("d").Op("*").Qual(wirePath, "Decoder")).Int().Block(
			jen.Switch(jen.String().Parens(jen.Id("d").Dot("Key").Call())).Block(exact...),
			jen.Switch(jen.String().Parens(jen.Id("d").Dot("FoldedKey").Call())).Block(folded...),
			jen.Return(jen.Lit(-1)),
		),
		jen.Line(),
	}
}
