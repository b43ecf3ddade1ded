package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Interactive queries: what the runtime's status server needs to read a
// key-value store over HTTP (runtime.StoreQuery), built from the serdes the
// store was generated with, so a key parsed from a URL path encodes to the
// very bytes the task wrote:
//
//	StoreSpec{…, Query: runtime.QueryOf[K, V](keySerde.Encode, keySerde.Decode, valueSerde.Decode)}
//
// Windowed and session stores and suppression buffers get none: their keys
// carry a window.

// storeQuery is the Query field of store s's StoreSpec, or nothing.
func (g *gen) storeQuery(s *ir.Store) []jen.Code {
	if s.KeySerde == nil || s.ValueSerde == nil || s.Node == nil || s.Node.Op == ir.OpSuppress {
		return nil
	}
	if w := s.Node.Window; w != nil && (w.Timed() || w.Kind == ir.SessionWindow) {
		return nil
	}
	ks, vs := g.serde(s.KeySerde), g.serde(s.ValueSerde)
	q := jen.Qual(runtimePath, "QueryOf").Types(typ(s.Key), typ(s.Value)).
		Call(ks.Clone().Dot("Encode"), ks.Clone().Dot("Decode"), vs.Dot("Decode"))
	return []jen.Code{jen.Id("Query").Op(":").Add(q)}
}
