package frontend

import (
	"go/ast"
	"go/constant"
	"go/types"

	"github.com/hamba/avro/v2"

	"github.com/gofka/streams/ir"
)

// schemaSerde checks a serde expression that calls one of the streams package's
// schema serdes, reports (and returns false for) what would fail at run time, and
// records in the graph the schema it writes to a registry (ir.SchemaUse).
//
//   - Avro[T](): T must have an Avro schema (ir.AvroSchema, the derivation the
//     streams package runs at run time);
//   - AvroWithSchema[T](schema): a constant schema must parse; whether T's fields
//     fit it is checked at run time, when the serde is built;
//   - JSONSchema[T](schema): recorded only.
func (e *evaluator) schemaSerde(x ast.Expr, t types.Type) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return true
	}
	name, ok := e.callee(call)
	if !ok {
		return true
	}
	var schema, kind string
	opts := call.Args
	switch name {
	case "Avro":
		derived, err := ir.AvroSchema(t, types.RelativeTo(e.Types))
		if err != nil {
			e.errorf(x.Pos(), "serde: streams.Avro cannot derive a schema for %s: %v; change the type, or give a schema with streams.AvroWithSchema", e.typeString(t), err)
			return false
		}
		schema, kind = canonicalAvro(derived), "AVRO"
	case "AvroWithSchema", "JSONSchema":
		if len(call.Args) == 0 {
			return true
		}
		text, isConst := e.constString(call.Args[0])
		if isConst && name == "AvroWithSchema" {
			parsed, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
			if err != nil {
				e.errorf(call.Args[0].Pos(), "serde: streams.AvroWithSchema: the schema is not a valid Avro schema: %v", err)
				return false
			}
			text = parsed.String()
		}
		schema, kind, opts = text, "AVRO", call.Args[1:]
		if name == "JSONSchema" {
			kind = "JSON"
		}
		if !isConst {
			return true // a //go:embed variable: checked when the serde is built
		}
	default:
		return true
	}
	if subject, ok := e.registrySubject(opts); ok {
		e.g.Schemas = append(e.g.Schemas, ir.SchemaUse{Pos: e.pos(x.Pos()), Subject: subject, Type: kind, Schema: schema})
	}
	return true
}

// canonicalAvro is the form the serde registers (hamba's canonical form).
func canonicalAvro(schema string) string {
	s, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		return schema
	}
	return s.String()
}

// registrySubject finds streams.Registry(url, subject) among a serde's options
// and returns the subject if it is a constant or ValueSubject/KeySubject of one.
func (e *evaluator) registrySubject(opts []ast.Expr) (string, bool) {
	for _, o := range opts {
		call, ok := ast.Unparen(o).(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			continue
		}
		if name, ok := e.callee(call); !ok || name != "Registry" {
			continue
		}
		if s, ok := e.constString(call.Args[1]); ok {
			return s, true
		}
		sub, ok := ast.Unparen(call.Args[1]).(*ast.CallExpr)
		if !ok || len(sub.Args) != 1 {
			return "", false
		}
		name, _ := e.callee(sub)
		topic, ok := e.constString(sub.Args[0])
		switch {
		case ok && name == "ValueSubject":
			return topic + "-value", true
		case ok && name == "KeySubject":
			return topic + "-key", true
		}
	}
	return "", false
}

func (e *evaluator) constString(x ast.Expr) (string, bool) {
	tv := e.Info.Types[x]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}
