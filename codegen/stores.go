package codegen

import (
	"strconv"
	"unicode"

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

// storesClient emits the typed client of the topology's queryable stores:
//
//	// ClickCountStores reads the key-value stores of topology ClickCount …
//	type ClickCountStores struct {
//		ClickCounts *runtime.StoreClient[string, int64] // store "click-counts"
//	}
//	func NewClickCountStores(cfg runtime.StoreClientConfig) *ClickCountStores
//
// Nothing when no store can be queried.
func (tg *topologyGen) storesClient() []jen.Code {
	var fields []jen.Code
	values := jen.Dict{}
	for _, s := range tg.graph.Stores {
		if tg.storeQuery(s) == nil {
			continue
		}
		name := camel(s.Name)
		ct := jen.Op("*").Qual(runtimePath, "StoreClient").Types(typ(s.Key), typ(s.Value))
		fields = append(fields, jen.Id(name).Add(ct).Comment("store "+strconv.Quote(s.Name)))
		values[jen.Id(name)] = jen.Qual(runtimePath, "NewStoreClient").Types(typ(s.Key), typ(s.Value)).
			Call(jen.Id("cfg"), jen.Lit(s.Name))
	}
	if len(fields) == 0 {
		return nil
	}
	base := tg.graph.Name
	typeName := tg.names.name(base + "Stores")
	ctor := tg.names.name("new" + upperFirst(base) + "Stores")
	if unicode.IsUpper([]rune(base)[0]) {
		ctor = tg.names.name("New" + base + "Stores")
	}
	return []jen.Code{
		jen.Comment(typeName + " reads the key-value stores of topology " + base + " from a running application,"),
		jen.Comment("through any replica's status address (GET /stores/…; the replica forwards to the key's owner)."),
		jen.Type().Id(typeName).Struct(fields...),
		jen.Line(),
		jen.Comment(ctor + " returns the stores' clients, all reading through cfg."),
		jen.Func().Id(ctor).Params(jen.Id("cfg").Qual(runtimePath, "StoreClientConfig")).Op("*").Id(typeName).Block(
			jen.Return(jen.Op("&").Id(typeName).Values(values)),
		),
	}
}
