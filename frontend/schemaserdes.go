package frontend

import (
	"go/ast"
	"go/constant"
	"go/types"

	"github.com/hamba/avro/v2"

	"github.com/gofka/streams/ir"
)

// avroEncodable reports (and returns false for) a streams.Avro[T]() serde whose T
// has no Avro schema: at run time the serde would fail on every record. The check
// is ir.AvroProblem, the compile-time twin of the schema derivation in the
// streams package. A schema given to AvroWithSchema as a constant is parsed here;
// whether T's fields fit it is checked at run time, when the serde is built.
func (e *evaluator) avroEncodable(x ast.Expr, t types.Type) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return true
	}
	name, ok := e.callee(call)
	if ok && name == "AvroWithSchema" && len(call.Args) > 0 {
		return e.avroSchemaParses(call.Args[0])
	}
	if !ok || name != "Avro" {
		return true
	}
	why := ir.AvroProblem(t, types.RelativeTo(e.Types))
	if why == "" {
		return true
	}
	e.errorf(x.Pos(), "serde: streams.Avro cannot derive a schema for %s: %s; change the type, or give a schema with streams.AvroWithSchema", e.typeString(t), why)
	return false
}

// avroSchemaParses reports (and returns false for) a constant schema argument of
// AvroWithSchema that is not a valid Avro schema. A non-constant one (a
// //go:embed variable) is checked when the serde is built.
func (e *evaluator) avroSchemaParses(arg ast.Expr) bool {
	tv := e.Info.Types[arg]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		return true
	}
	if _, err := avro.ParseWithCache(constant.StringVal(tv.Value), "", &avro.SchemaCache{}); err != nil {
		e.errorf(arg.Pos(), "serde: streams.AvroWithSchema: the schema is not a valid Avro schema: %v", err)
		return false
	}
	return true
}
