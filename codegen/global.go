package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Global tables (ir/global.go) in the generated code: the Program lists each
// (runtime.GlobalSpec) with its topic, which no sub-topology reads; a task that
// joins with one keeps the replica's read-only view of its store
// (runtime.TaskContext.Globals) behind a typed read cache (state.ReadCache) in
// a field, and a join looks the selected key up there.

// globalTopics adds the topic of every global table to the Program's topics.
func (tg *topologyGen) globalTopics() {
	for _, gt := range tg.graph.Globals {
		tg.topicID(gt.Topic, "SourceTopic", gt.KeySerde, gt.ValueSerde)
	}
}

// globalsField is the Program's Globals field, if it has global tables.
func (tg *topologyGen) globalsField() []jen.Code {
	if len(tg.graph.Globals) == 0 {
		return nil
	}
	/*
		Globals: []runtime.GlobalSpec{
			{Name: "products", Topic: 2, Persistent: true},
		},
	*/
	specs := make([]jen.Code, len(tg.graph.Globals))
	for i, gt := range tg.graph.Globals {
		specs[i] = jen.Values(
			jen.Id("Name").Op(":").Lit(gt.Name),
			jen.Id("Topic").Op(":").Lit(tg.topicIDs[topicKey{gt.Topic.Name, false}]),
			jen.Id("Persistent").Op(":").Lit(gt.Persistent),
		)
	}
	return []jen.Code{field("Globals", jen.Index().Qual(runtimePath, "GlobalSpec").Values(fieldList(specs)...))}
}

// globalField names the task field holding the view of global table gt.
func globalField(gt *ir.Global) string { return "global" + camel(gt.Name) }

// globalFields adds a field per global table the sub-topology joins with: a
// typed read cache (state.ReadCache) over the replica's view of its store.
func (t *taskGen) globalFields(fields *[]jen.Code, ctor jen.Dict) {
	seen := map[*ir.Global]bool{}
	for _, n := range t.st.Nodes {
		gt := n.Global
		if gt == nil || seen[gt] {
			continue
		}
		seen[gt] = true
		/*
			globalProducts *state.ReadCache[Product] // global table "products", read-only
			...
			globalProducts: state.NewReadCache[Product](ctx.Globals[0], gofkaSerdeProduct.Decode, ctx.CacheEntries),
		*/
		*fields = append(*fields, jen.Id(globalField(gt)).Op("*").Qual(statePath, "ReadCache").Types(typ(gt.Value)).Commentf("global table %q, read-only", gt.Name))
		ctx := jen.Id(t.l("ctx"))
		ctor[jen.Id(globalField(gt))] = jen.Qual(statePath, "NewReadCache").Types(typ(gt.Value)).Call(
			ctx.Clone().Dot("Globals").Index(jen.Lit(gt.Index)), t.serde(gt.ValueSerde).Dot("Decode"), ctx.Clone().Dot("CacheEntries"))
	}
}

// joinGlobal emits a JoinGlobal or LeftJoinGlobal node: select the table key,
// encode it, look it up (decoded, through the read cache) and call the
// joiner. An inner join drops a record without a row as a filter does (mode
// m). A selected key that is nil (a pointer key) joins nothing: the record is
// dropped and counted, except by a left join for a record whose own key is
// null, which is joined with nil, as Kafka Streams 3.9's
// KStreamKTableJoinProcessor does (KIP-962).
func (t *taskGen) joinGlobal(n *ir.Node, k, v string, m mode) []jen.Code {
	/*
		kg2 := orderProduct(k0, v0)
		row2, found2, err := t.globalProducts.Get(runtime.StringBytes(kg2))
		if err != nil { return r.Fail("read global table products", err) }
		if !found2 { continue }
		v2 := enrich(v0, row2)
	*/
	gt := n.Global
	_, nv := t.vars(n)
	kg, found, row := t.l(fmt.Sprintf("kg%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID)), t.l(fmt.Sprintf("row%d", n.ID))
	sel := jen.Id(kg).Op(":=").Add(t.call(n.Fns[0], jen.Id(k), jen.Id(v))).Commentf("the key of global table %q", gt.Name)
	look, key := t.encode(gt.KeySerde, kg, "storeKey", t.l(fmt.Sprintf("gk%d", n.ID)), "encode key for global table "+gt.Name)
	look = append(look,
		jen.List(jen.Id(row), jen.Id(found), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(globalField(gt)).Dot("Get").Call(key),
		t.fail("read global table "+gt.Name),
	)
	joinArgs := func(rowArg jen.Code) []jen.Code {
		if n.Fns[1].Sig.Params().Len() == 3 {
			return []jen.Code{jen.Id(k), jen.Id(v), rowArg}
		}
		return []jen.Code{jen.Id(v), rowArg}
	}
	rest := t.children(n, 0, k, nv, m)
	var drop, keep jen.Code // the selected key is nil: drop the record, or join it with nil
	if isPointer(gt.Key) {
		drop = jen.Id(kg).Op("==").Nil()
		if null := t.nullKey(n, k); null != nil && n.Op == ir.OpLeftGlobal {
			drop = jen.Id(kg).Op("==").Nil().Op("&&").Op("!").Parens(null)
			keep = jen.Id(kg).Op("!=").Nil()
		}
	}
	guard := func(out []jen.Code) []jen.Code {
		if drop == nil {
			return append([]jen.Code{sel}, out...)
		}
		return append([]jen.Code{sel}, t.dropNullKey(drop, m, out)...)
	}
	if n.Op == ir.OpLeftGlobal {
		/*
			var rowp2 *Product // nil: the table has no row for the key
			if found2 { rowp2 = &row2 }
		*/
		rowp := t.l(fmt.Sprintf("rowp%d", n.ID))
		look = append(look, jen.If(jen.Id(found)).Block(jen.Id(rowp).Op("=").Op("&").Id(row).Comment("a copy of the cached row")))
		out := []jen.Code{jen.Var().Id(rowp).Op("*").Add(typ(gt.Value)).Comment("nil: the table has no row for the key")}
		if keep != nil {
			out = append(out, jen.Comment("a nil key joins nothing: no lookup"), jen.If(keep).Block(look...))
		} else {
			out = append(out, look...)
		}
		out = append(out, jen.Id(nv).Op(":=").Add(t.call(n.Fns[1], joinArgs(jen.Id(rowp))...)))
		return guard(append(out, rest...))
	}
	joined := jen.Id(nv).Op(":=").Add(t.call(n.Fns[1], joinArgs(jen.Id(row))...))
	switch m {
	case modeLoop, modeMethod:
		skip := jen.Continue()
		if m == modeMethod {
			skip = jen.Return(jen.Nil())
		}
		look = append(look, jen.If(jen.Op("!").Id(found)).Block(skip.Comment("no row: an inner join drops the record")), joined)
		return guard(append(look, rest...))
	default:
		return guard(append(look, jen.If(jen.Id(found)).Block(append([]jen.Code{joined}, rest...)...)))
	}
}
