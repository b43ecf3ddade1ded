package frontend

import (
	"go/ast"
	"go/types"

	"github.com/gofka/streams/ir"
)

// avroEncodable reports (and returns false for) a streams.Avro[T]() serde whose T
// has no Avro schema: at run time the serde would fail on every record. The check
// is ir.AvroProblem, the compile-time twin of the schema derivation in the
// streams package. Serdes given a schema (AvroWithSchema) are matched against it
// at run time, when the serde is built.
func (e *evaluator) avroEncodable(x ast.Expr, t types.Type) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return true
	}
	if name, ok := e.callee(call); !ok || name != "Avro" {
		return true
	}
	why := ir.AvroProblem(t, types.RelativeTo(e.Types))
	if why == "" {
		return true
	}
	e.errorf(x.Pos(), "serde: streams.Avro cannot derive a schema for %s: %s; change the type, or give a schema with streams.AvroWithSchema", e.typeString(t), why)
	return false
}
