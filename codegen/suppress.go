package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Suppress(UntilWindowCloses()) after a windowed aggregation. Each update of a
// window replaces the window's pending result in a state.SuppressBuffer (a store
// with a changelog, so a restart loses no pending result), due when stream time
// reaches the window's end plus grace. After each update the buffer hands back,
// oldest first, the results that are due, and a method per Suppress node
// (final<ID>) runs the rest of the chain on each: exactly one record per window,
// with the window's timestamp.
//
//	t.storeX.Put(windowed key bytes, end+grace, aggregate bytes, window time)
//	t.storeX.EvictUntil(t.streamTime, func(key, value []byte, ts int64) error {
//		return t.final5(r, key, value, ts)
//	})
//
// A buffer is loaded from its backend on the task's first Process, since loading
// can fail and NewTask cannot.

// suppressStores are the suppression buffers of the sub-topology.
func (t *taskGen) suppressStores() []*ir.Store {
	var out []*ir.Store
	for _, s := range t.st.Stores {
		if s.Node.Op == ir.OpSuppress {
			out = append(out, s)
		}
	}
	return out
}

// windowFields adds the task fields windows need (the late-record counter; the
// backends of suppression buffers, loaded later) and returns what Process does
// first (load the buffers).
func (t *taskGen) windowFields(fields *[]jen.Code, ctor jen.Dict) []jen.Code {
	if hasWindows(t.st) {
		*fields = append(*fields, jen.Id("late").Op("*").Qual(runtimePath, "LateCounter").Comment("records that fell in no open window"))
		ctor[jen.Id("late")] = jen.Id(t.l("ctx")).Dot("Late")
		*fields = append(*fields, t.sessionFields()...)
	}
	if len(t.suppressStores()) == 0 {
		return nil
	}
	*fields = append(*fields, jen.Id("backends").Index().Qual(statePath, "Backend").Comment("the stores' backends: suppression buffers load from them"))
	ctor[jen.Id("backends")] = jen.Id(t.l("ctx")).Dot("Stores")
	return []jen.Code{jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot("open").Call(), jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("err"))))}
}

// openMethod loads the suppression buffers, once.
func (t *taskGen) openMethod(recv jen.Code) []jen.Code {
	stores := t.suppressStores()
	if len(stores) == 0 {
		return nil
	}
	body := []jen.Code{jen.If(jen.Id(t.l("t")).Dot(t.stores[stores[0]]).Op("!=").Nil()).Block(jen.Return(jen.Nil()))}
	for _, s := range stores {
		i := 0
		for j, o := range t.st.Stores {
			if o == s {
				i = j
			}
		}
		body = append(body,
			jen.List(jen.Id(t.l("buf")), jen.Id(t.l("err"))).Op(":=").Qual(statePath, "NewSuppressBuffer").Call(jen.Id(t.l("t")).Dot("backends").Index(jen.Lit(i))),
			jen.If(jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("load store %s: %%w", s.Name)), jen.Id(t.l("err"))))),
			jen.Id(t.l("t")).Dot(t.stores[s]).Op("=").Id(t.l("buf")),
		)
	}
	return []jen.Code{
		jen.Comment("open loads the suppression buffers' pending results on the first Process:"),
		jen.Comment("loading can fail, and NewTask cannot."),
		jen.Func().Params(recv).Id("open").Params().Error().Block(append(body, jen.Return(jen.Nil()))...),
		jen.Line(),
	}
}

// flushStore writes a store's changes at a commit; a suppression buffer not
// loaded yet has none.
func (t *taskGen) flushStore(s *ir.Store, field string) jen.Code {
	flush := jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Flush").Call(), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("store %s: %%w", s.Name)), jen.Id(t.l("err")))),
	)
	if s.Node.Op != ir.OpSuppress {
		return flush
	}
	return jen.If(jen.Id(t.l("t")).Dot(field).Op("!=").Nil()).Block(flush)
}

// suppress buffers the window update in k, v and emits the results now due.
func (t *taskGen) suppress(n *ir.Node, k, v string) []jen.Code {
	s := n.Store
	field := t.stores[s]
	grace := int(windowNode(n).Window.Grace.Milliseconds()) // the frontend gives only a windowed Suppress a buffer
	out := []jen.Code{jen.Commentf("%s: the window's latest result waits in %s until the window closes.", n, storeRef(s))}
	kc, key := t.encode(s.KeySerde, k, "keyBuf", t.l(fmt.Sprintf("bk%d", n.ID)), "encode key for store "+s.Name)
	vc, val := t.encode(s.ValueSerde, v, "valueBuf", t.l(fmt.Sprintf("bv%d", n.ID)), "encode value for store "+s.Name)
	out = append(append(out, kc...), vc...)
	out = append(out,
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Put").Call(key, jen.Id(k).Dot("End").Dot("UnixMilli").Call().Op("+").Lit(grace), val, t.timestamp()), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
		),
	)
	method := fmt.Sprintf("final%d", n.ID)
	evict := jen.Func().Params(jen.Id(t.l("key")).Index().Byte(), jen.Id(t.l("value")).Index().Byte(), jen.Id(t.l("ts")).Int64()).Error().Block(
		jen.Return(jen.Id(t.l("t")).Dot(method).Call(jen.Id(t.l("r")), jen.Id(t.l("key")), jen.Id(t.l("value")), jen.Id(t.l("ts")))),
	)
	out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("EvictUntil").Call(jen.Id(t.l("t")).Dot("streamTime"), evict), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("err"))),
	))
	t.methods = append(t.methods, t.finalMethod(n, method))
	return out
}

// windowNode is the windowed aggregation a Suppress node reads.
func windowNode(n *ir.Node) *ir.Node {
	for n != nil && n.Window == nil && len(n.Inputs) > 0 {
		n = n.Inputs[0].Node
	}
	if n == nil || n.Window == nil {
		return nil
	}
	return n
}

// finalMethod runs the chain after Suppress node n on one final result.
func (t *taskGen) finalMethod(n *ir.Node, method string) []jen.Code {
	s := n.Store
	k, v := t.vars(n)
	outer := t.resultTime
	t.resultTime = t.l("ts")
	defer func() { t.resultTime = outer }()
	body := []jen.Code{
		jen.List(jen.Id(k), jen.Id(t.l("err"))).Op(":=").Add(t.serde(s.KeySerde)).Dot("Decode").Call(jen.Id(t.l("key"))),
		t.fail("decode key of store " + s.Name),
		jen.List(jen.Id(v), jen.Id(t.l("err"))).Op(":=").Add(t.serde(s.ValueSerde)).Dot("Decode").Call(jen.Id(t.l("value"))),
		t.fail("decode value of store " + s.Name),
	}
	body = append(body, t.children(n, 0, k, v, modeMethod)...)
	recv := jen.Id(t.l("t")).Op("*").Id(t.typ)
	return []jen.Code{
		jen.Commentf("%s runs the chain after %s (at %s) on a window's final result, as the", method, n, posRef(n)),
		jen.Commentf("record r was being processed; key and value are valid only during the call."),
		jen.Func().Params(recv).Id(method).Params(
			jen.Id(t.l("r")).Op("*").Qual(runtimePath, "Record"), jen.Id(t.l("key")).Index().Byte(), jen.Id(t.l("value")).Index().Byte(), jen.Id(t.l("ts")).Int64(),
		).Error().Block(append(body, jen.Return(jen.Nil()))...),
	}
}
