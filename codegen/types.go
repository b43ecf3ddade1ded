package codegen

import (
	"go/types"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

const (
	streamsPath = "github.com/gofka/streams"
	runtimePath = "github.com/gofka/streams/runtime"
	statePath   = "github.com/gofka/streams/state"
	appPath     = "github.com/gofka/streams/runtime/app"
)

// typ renders a Go type, qualifying named types with their import path so
// jennifer imports their packages.
func typ(t types.Type) jen.Code {
	switch t := t.(type) {
	case *types.Alias:
		return typ(types.Unalias(t))
	case *types.Basic:
		return jen.Id(t.Name())
	case *types.Named:
		obj := t.Obj()
		var s *jen.Statement
		if obj.Pkg() == nil {
			s = jen.Id(obj.Name())
		} else {
			s = jen.Qual(obj.Pkg().Path(), obj.Name())
		}
		if args := t.TypeArgs(); args != nil && args.Len() > 0 {
			codes := make([]jen.Code, args.Len())
			for i := range codes {
				codes[i] = typ(args.At(i))
			}
			s = s.Types(codes...)
		}
		return s
	case *types.Pointer:
		return jen.Op("*").Add(typ(t.Elem()))
	case *types.Slice:
		return jen.Index().Add(typ(t.Elem()))
	case *types.Array:
		return jen.Index(jen.Lit(int(t.Len()))).Add(typ(t.Elem()))
	case *types.Map:
		return jen.Map(typ(t.Key())).Add(typ(t.Elem()))
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return jen.Chan().Op("<-").Add(typ(t.Elem()))
		case types.RecvOnly:
			return jen.Op("<-").Chan().Add(typ(t.Elem()))
		}
		return jen.Chan().Add(typ(t.Elem()))
	case *types.Signature:
		return jen.Func().Add(signature(t))
	case *types.Struct:
		fields := make([]jen.Code, t.NumFields())
		for i := range fields {
			f := t.Field(i)
			var c *jen.Statement
			if f.Embedded() {
				c = jen.Add(typ(f.Type()))
			} else {
				c = jen.Id(f.Name()).Add(typ(f.Type()))
			}
			if tag := t.Tag(i); tag != "" {
				c = c.Tag(parseTag(tag))
			}
			fields[i] = c
		}
		return jen.Struct(fields...)
	case *types.Interface:
		if t.Empty() {
			return jen.Any()
		}
	}
	// Other types (non-empty interface literals) are rare in a record stream;
	// print them as Go would.
	return jen.Id(types.TypeString(t, func(p *types.Package) string { return p.Name() }))
}

// signature renders a function type after the func keyword: (params) results.
func signature(sig *types.Signature) *jen.Statement {
	params := make([]jen.Code, sig.Params().Len())
	for i := range params {
		params[i] = typ(sig.Params().At(i).Type())
	}
	results := make([]jen.Code, sig.Results().Len())
	for i := range results {
		results[i] = typ(sig.Results().At(i).Type())
	}
	s := jen.Params(params...)
	switch len(results) {
	case 0:
	case 1:
		s = s.Add(results[0])
	default:
		s = s.Params(results...)
	}
	return s
}

// parseTag turns a raw struct tag into jennifer's map form, keeping key order.
func parseTag(tag string) map[string]string {
	out := map[string]string{}
	for tag != "" {
		i := 0
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		tag = tag[i:]
		j := 0
		for j < len(tag) && tag[j] != ':' {
			j++
		}
		if j+1 >= len(tag) || tag[j+1] != '"' {
			break
		}
		key := tag[:j]
		rest := tag[j+2:]
		k := 0
		for k < len(rest) && rest[k] != '"' {
			if rest[k] == '\\' {
				k++
			}
			k++
		}
		if k >= len(rest) {
			break
		}
		out[key] = rest[:k]
		tag = rest[k+1:]
	}
	return out
}

// code renders user source kept in the IR, importing the packages it names.
func code(c ir.Code) *jen.Statement {
	s := jen.Null()
	for _, f := range c {
		if f.Pkg != "" {
			s.Add(jen.Qual(f.Pkg, f.Name))
		} else {
			s.Add(jen.Op(f.Text))
		}
	}
	return s
}
