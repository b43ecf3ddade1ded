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
// A window store's reads go through a state.WindowStore of their own
// (runtime.WindowQueryOf); session stores and suppression buffers get none.

// storeQuery is the Query field of store s's StoreSpec, or nothing.
func (g *gen) storeQuery(s *ir.Store) []jen.Code {
	if s.KeySerde == nil || s.ValueSerde == nil || s.Node == nil || s.Node.Op == ir.OpSuppress || s.Node.Op == ir.OpFKRespond {
		return nil
	}
	// A fresh statement per method: jennifer's Clone shares the slice.
	ks := func(m string) jen.Code { return g.serde(s.KeySerde).Dot(m) }
	vs := func(m string) jen.Code { return g.serde(s.ValueSerde).Dot(m) }
	if w := s.Node.Window; w != nil && w.Kind == ir.SessionWindow {
		return nil
	} else if w != nil && w.Timed() { // read through a state.WindowStore, as the task writes it
		spec := jen.Qual(statePath, "WindowSpec").Values(
			jen.Id("Size").Op(":").Lit(int(w.Size.Milliseconds())),
			jen.Id("Retention").Op(":").Lit(int(w.Retention().Milliseconds())))
		q := jen.Qual(runtimePath, "WindowQueryOf").Types(typ(s.Key), typ(s.Value)).
			Call(ks("Encode"), ks("Decode"), vs("Encode"), vs("Decode"), spec)
		return []jen.Code{jen.Id("Query").Op(":").Add(q)}
	}
	fn := "QueryOf"
	if s.Timestamped {
		fn = "TimestampedQueryOf" // reads a row without its timestamp
	}
	q := jen.Qual(runtimePath, fn).Types(typ(s.Key), typ(s.Value)).
		Call(ks("Encode"), ks("Decode"), vs("Decode"))
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
		if w := s.Node.Window; tg.storeQuery(s) == nil || (w != nil && w.Timed()) {
			continue // no typed client for window stores yet
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
