package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Global tables (ir/global.go) in the generated code: the Program lists each
// (runtime.GlobalSpec) with its topic, which no sub-topology reads; a task that
// joins with one keeps the replica's read-only view of its store
// (runtime.TaskContext.Globals) in a field, and a join looks the selected key
// up there, decoding the row it finds.

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

// globalFields adds a field per global table the sub-topology joins with.
func (t *taskGen) globalFields(fields *[]jen.Code, ctor jen.Dict) {
	seen := map[*ir.Global]bool{}
	for _, n := range t.st.Nodes {
		gt := n.Global
		if gt == nil || seen[gt] {
			continue
		}
		seen[gt] = true
		*fields = append(*fields, jen.Id(globalField(gt)).Qual(statePath, "Backend").Commentf("global table %q, read-only", gt.Name))
		ctor[jen.Id(globalField(gt))] = jen.Id(t.l("ctx")).Dot("Globals").Index(jen.Lit(gt.Index))
	}
}

// joinGlobal emits a JoinGlobal or LeftJoinGlobal node: select the table key,
// encode it, look it up, decode the row (if any) and call the joiner. An inner
// join drops a record without a row as a filter does (mode m).
func (t *taskGen) joinGlobal(n *ir.Node, k, v string, m mode) []jen.Code {
	/*
		kg2 := orderProduct(k0, v0)
		raw2, found2, err := t.globalProducts.Get(runtime.StringBytes(kg2))
		if err != nil { return r.Fail("read global table products", err) }
		if !found2 { continue }
		row2, err := gofkaSerdeProduct.Decode(bytes.Clone(raw2))
		if err != nil { return r.Fail("decode global table products value", err) }
		v2 := enrich(v0, row2)
	*/
	gt := n.Global
	_, nv := t.vars(n)
	kg, raw, found, row := t.l(fmt.Sprintf("kg%d", n.ID)), t.l(fmt.Sprintf("raw%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID)), t.l(fmt.Sprintf("row%d", n.ID))
	errID := jen.Id(t.l("err"))
	out := []jen.Code{jen.Id(kg).Op(":=").Add(t.call(n.Fns[0], jen.Id(k), jen.Id(v))).Commentf("the key of global table %q", gt.Name)}
	enc, key := t.encode(gt.KeySerde, kg, "storeKey", t.l(fmt.Sprintf("gk%d", n.ID)), "encode key for global table "+gt.Name)
	out = append(out, enc...)
	out = append(out,
		jen.List(jen.Id(raw), jen.Id(found), errID).Op(":=").Id(t.l("t")).Dot(globalField(gt)).Dot("Get").Call(key),
		t.fail("read global table "+gt.Name),
	)
	// The view's bytes are valid until its next call, and decoders may alias
	// their input: the row gets its own copy.
	decode := jen.Add(t.serde(gt.ValueSerde)).Dot("Decode").Call(jen.Qual("bytes", "Clone").Call(jen.Id(raw)))
	joinArgs := func(rowArg jen.Code) []jen.Code {
		if n.Fns[1].Sig.Params().Len() == 3 {
			return []jen.Code{jen.Id(k), jen.Id(v), rowArg}
		}
		return []jen.Code{jen.Id(v), rowArg}
	}
	rest := t.children(n, 0, k, nv, m)
	if n.Op == ir.OpLeftGlobal {
		/*
			var row2 *Product
			if found2 { vg, err := decode; ...; row2 = &vg }
		*/
		vg := t.l(fmt.Sprintf("vg%d", n.ID))
		out = append(out,
			jen.Var().Id(row).Op("*").Add(typ(gt.Value)).Comment("nil: the table has no row for the key"),
			jen.If(jen.Id(found)).Block(
				jen.List(jen.Id(vg), errID).Op(":=").Add(decode),
				t.fail("decode global table "+gt.Name+" value"),
				jen.Id(row).Op("=").Op("&").Id(vg),
			),
			jen.Id(nv).Op(":=").Add(t.call(n.Fns[1], joinArgs(jen.Id(row))...)),
		)
		return append(out, rest...)
	}
	joined := []jen.Code{
		jen.List(jen.Id(row), errID).Op(":=").Add(decode),
		t.fail("decode global table " + gt.Name + " value"),
		jen.Id(nv).Op(":=").Add(t.call(n.Fns[1], joinArgs(jen.Id(row))...)),
	}
	switch m {
	case modeLoop, modeMethod:
		skip := jen.Continue()
		if m == modeMethod {
			skip = jen.Return(jen.Nil())
		}
		out = append(out, jen.If(jen.Op("!").Id(found)).Block(skip.Comment("no row: an inner join drops the record")))
		return append(append(out, joined...), rest...)
	default:
		return append(out, jen.If(jen.Id(found)).Block(append(joined, rest...)...))
	}
}
