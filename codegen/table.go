package codegen

// Tables in generated code: a table node hands its consumers a change (the
// variables holding the key, the new value and whether it exists, and, when a
// later step subtracts it, the old value and whether it existed), as Kafka
// Streams' Change<V>, without a struct or an allocation:
//
//	Table#0 ──change{k0, v0, has0}──▶ TableFilter#1 ──change{k0, v0, has1}──▶ ToStream#2 ──▶ Sink#3
//	                                                      (a change without a new value: a tombstone)
//
// After ToStream, a delete travels as a record without a value: the task keeps the
// name of the variable saying whether the value is there (present). To and
// Repartition write a tombstone for it, MapValues and ToTable pass it on, and
// every other step drops it.

import (
	"fmt"
	"go/types"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// change names the variables of a table change. hasNew is "true" when the new
// value always exists; ov is "" when no later step reads old values.
type change struct {
	k, nv, hasNew string
	ov, hasOld    string
}

func (c change) withNew(nv, hasNew string) change { c.nv, c.hasNew = nv, hasNew; return c }

// skipUnless emits rest under cond: in a loop or method, by skipping the record
// when cond fails; nested, inside an if.
func (t *taskGen) skipUnless(cond jen.Code, m mode, rest []jen.Code) []jen.Code {
	switch m {
	case modeLoop:
		return append([]jen.Code{jen.If(jen.Op("!").Parens(cond)).Block(jen.Continue())}, rest...)
	case modeMethod:
		return append([]jen.Code{jen.If(jen.Op("!").Parens(cond)).Block(jen.Return(jen.Nil()))}, rest...)
	}
	return []jen.Code{jen.If(cond).Block(rest...)}
}

// tableChildren emits the consumers of table node n for the change c.
func (t *taskGen) tableChildren(n *ir.Node, c change, m mode) []jen.Code {
	return t.fanOut(n, 0, m, func(cn *ir.Node, cm mode) []jen.Code { return t.tableNode(n, cn, c, cm) })
}

// tableNode emits node n, a consumer of the table node from, for change c.
func (t *taskGen) tableNode(from, n *ir.Node, c change, m mode) []jen.Code {
	switch n.Op {
	case ir.OpToStream:
		if c.hasNew == "true" {
			return t.children(n, 0, c.k, c.nv, m)
		}
		return t.withPresent(c.nv, c.hasNew, func() []jen.Code { return t.children(n, 0, c.k, c.nv, m) })
	case ir.OpTableFilter, ir.OpTableFilterNot:
		return t.tableFilter(n, c, m)
	case ir.OpTableMapValues:
		return t.tableMapValues(n, c, m)
	case ir.OpTableGroupBy:
		return t.tableGroupBy(n, c)
	case ir.OpTableCount, ir.OpTableReduce, ir.OpTableAggregate:
		return t.tableAggregate(n, c, m)
	case ir.OpStreamTableJoin:
		return nil // the table side only keeps its store, which the stream side reads
	case ir.OpTableJoin:
		return t.tableJoin(from, n, c, m)
	case ir.OpFKSubscribe:
		return t.fkSubscribe(n, c, m)
	case ir.OpFKRespond:
		return t.fkRightChange(n, c, m)
	case ir.OpFKResolve:
		return nil // the left table only keeps its store, which the responses read
	}
	// Steps of streams (Suppress of an aggregation) see the rows that exist.
	if c.hasNew == "true" {
		return t.node(n, c.k, c.nv, m)
	}
	return t.skipUnless(jen.Id(c.hasNew), m, t.node(n, c.k, c.nv, m))
}

// withPresent generates, with value variable v marked as present only when the
// expression has holds, what gen returns.
func (t *taskGen) withPresent(v, has string, gen func() []jen.Code) []jen.Code {
	if t.present == nil {
		t.present = map[string]string{}
	}
	prev, had := t.present[v]
	t.present[v] = has
	out := gen()
	if had {
		t.present[v] = prev
	} else {
		delete(t.present, v)
	}
	return out
}

// deletesPass lists the stream steps a record without a value goes through.
func deletesPass(op ir.Op) bool {
	return op == ir.OpSink || op == ir.OpRepartition || op == ir.OpMapValues || op == ir.OpToTable || op == ir.OpToStream
}

// dropDeletes guards a stream step that never sees a record without a value.
func (t *taskGen) dropDeletes(n *ir.Node, v string, m mode, gen func() []jen.Code) []jen.Code {
	has, ok := t.present[v]
	if !ok || deletesPass(n.Op) {
		return gen()
	}
	out := t.withPresent(v, "", func() []jen.Code { delete(t.present, v); return gen() })
	return t.skipUnless(jen.Id(has), m, append([]jen.Code{jen.Comment(n.String() + " sees only records with a value")}, out...))
}

// tableFilter emits a table Filter: a row that fails becomes a delete; with old
// values, a change in which neither row passes is dropped (Kafka Streams' KTableFilter).
func (t *taskGen) tableFilter(n *ir.Node, c change, m mode) []jen.Code {
	pass := func(v string) jen.Code {
		call := t.call(n.Fns[0], jen.Id(c.k), jen.Id(v))
		if n.Op == ir.OpTableFilterNot {
			return jen.Op("!").Add(call)
		}
		return call
	}
	has := t.l(fmt.Sprintf("has%d", n.ID))
	out := []jen.Code{jen.Id(has).Op(":=").Add(and(c.hasNew, pass(c.nv)))}
	next := c.withNew(c.nv, has)
	if c.ov == "" {
		return append(out, t.tableChildren(n, next, m)...)
	}
	hadOld := t.l(fmt.Sprintf("hadOld%d", n.ID))
	out = append(out, jen.Id(hadOld).Op(":=").Add(and(c.hasOld, pass(c.ov))))
	next.hasOld = hadOld
	return append(out, t.skipUnless(jen.Id(has).Op("||").Id(hadOld), m, t.tableChildren(n, next, m))...)
}

// and is "has && cond", or cond when has is always true.
func and(has string, cond jen.Code) jen.Code {
	if has == "true" {
		return cond
	}
	return jen.Id(has).Op("&&").Add(cond)
}

// tableMapValues maps the new value, and the old one when it is tracked, if
// they exist.
func (t *taskGen) tableMapValues(n *ir.Node, c change, m mode) []jen.Code {
	mapped := func(dst, v, has string) []jen.Code {
		args := []jen.Code{jen.Id(v)}
		if n.Fns[0].Sig.Params().Len() == 2 {
			args = []jen.Code{jen.Id(c.k), jen.Id(v)}
		}
		if has == "true" {
			return []jen.Code{jen.Id(dst).Op(":=").Add(t.call(n.Fns[0], args...))}
		}
		return []jen.Code{
			jen.Var().Id(dst).Add(typ(n.Value)),
			jen.If(jen.Id(has)).Block(jen.Id(dst).Op("=").Add(t.call(n.Fns[0], args...))),
		}
	}
	_, nv := t.vars(n)
	out := mapped(nv, c.nv, c.hasNew)
	next := c.withNew(nv, c.hasNew)
	if c.ov != "" {
		ov := t.l(fmt.Sprintf("old%d", n.ID))
		out = append(out, mapped(ov, c.ov, c.hasOld)...)
		next.ov = ov
	}
	return append(out, t.tableChildren(n, next, m)...)
}

// tableGroupBy sends the change to the repartition topic that follows, keyed by
// the group of each row (ir/table.go): a row that stays in its group as one
// record with both rows, so that the aggregate subtracts and adds in one step
// and emits once (Kafka Streams 3.5+, KIP-904); otherwise the old row to
// subtract, then the new row to add. A pointer key, or one Go cannot compare,
// always goes as two records.
func (t *taskGen) tableGroupBy(n *ir.Node, c change) []jen.Code {
	r := t.graph.Consumers(n, 0)[0]
	kOld, vOld := t.l(fmt.Sprintf("k%d_old", n.ID)), t.l(fmt.Sprintf("v%d_old", n.ID))
	kNew, vNew := t.l(fmt.Sprintf("k%d_new", n.ID)), t.l(fmt.Sprintf("v%d_new", n.ID))
	mapRow := func(k2, v2, v string) jen.Code {
		return jen.List(jen.Id(k2), jen.Id(v2)).Op(":=").Add(t.call(n.Fns[0], jen.Id(c.k), jen.Id(v)))
	}
	send := func(k2, v2 string, mark byte) []jen.Code {
		emit := t.emitChange(r, k2, v2, mark)
		if isPointer(n.Key) {
			emit = t.dropNullKey(jen.Id(k2).Op("==").Nil(), modeNested, emit)
		}
		return emit
	}
	if c.ov == "" || isPointer(n.Key) || !types.Comparable(n.Key) {
		out := []jen.Code{jen.Commentf("%s: the old row leaves its group, the new row joins its group", n)}
		if c.ov != "" {
			out = append(out, ifHas(c.hasOld, append([]jen.Code{mapRow(kOld, vOld, c.ov)}, send(kOld, vOld, ir.ChangeSubtract)...)))
		}
		return append(out, ifHas(c.hasNew, append([]jen.Code{mapRow(kNew, vNew, c.nv)}, send(kNew, vNew, ir.ChangeAdd)...)))
	}
	declare := func(k2, v2, has, v string) []jen.Code {
		if has == "true" {
			return []jen.Code{mapRow(k2, v2, v)}
		}
		return []jen.Code{
			jen.Var().Id(k2).Add(typ(n.Key)),
			jen.Var().Id(v2).Add(typ(n.Value)),
			jen.If(jen.Id(has)).Block(jen.List(jen.Id(k2), jen.Id(v2)).Op("=").Add(t.call(n.Fns[0], jen.Id(c.k), jen.Id(v)))),
		}
	}
	out := []jen.Code{jen.Commentf("%s: a row that stays in its group goes as one record, a row that moves leaves its group, then joins its new one", n)}
	out = append(out, declare(kOld, vOld, c.hasOld, c.ov)...)
	out = append(out, declare(kNew, vNew, c.hasNew, c.nv)...)
	same := jen.Id(kOld).Op("==").Id(kNew)
	for _, has := range []string{c.hasNew, c.hasOld} {
		if has != "true" {
			same = jen.Id(has).Op("&&").Add(same)
		}
	}
	return append(out, jen.If(same).Block(t.emitBoth(r, kNew, vOld, vNew)...).Else().Block(
		ifHas(c.hasOld, send(kOld, vOld, ir.ChangeSubtract)),
		ifHas(c.hasNew, send(kNew, vNew, ir.ChangeAdd)),
	))
}

// ifHas is body under "if has", or a plain block when has is "true".
func ifHas(has string, body []jen.Code) jen.Code {
	if has == "true" {
		return jen.Block(body...)
	}
	return jen.If(jen.Id(has)).Block(body...)
}

var markNames = map[byte]string{ir.ChangeAdd: "mark 0: add", ir.ChangeSubtract: "mark 1: subtract"}

// emitChange writes one side of a change to repartition node r: the key, and the
// value after its mark byte.
func (t *taskGen) emitChange(r *ir.Node, k, v string, mark byte) []jen.Code {
	topic := r.Topics[0]
	id := t.topicIDs[topicKey{topic.Name, true}]
	name := topic.FullName(t.graph.DefaultAppID)
	out, key := t.encode(r.KeySerde, k, "keyBuf", t.l(fmt.Sprintf("key%d", r.ID)), "encode key for "+name)
	t.buffers["valueBuf"] = true
	val := t.l(fmt.Sprintf("value%d", r.ID))
	return append(out,
		jen.List(jen.Id(val), jen.Id(t.l("err"))).Op(":=").Add(t.serde(r.ValueSerde)).Dot("Encode").Call(
			jen.Append(jen.Id(t.l("t")).Dot("valueBuf").Index(jen.Empty(), jen.Lit(0)), jen.Lit(int(mark))), jen.Id(v)).Comment(markNames[mark]),
		t.fail("encode value for "+name),
		jen.Id(t.l("t")).Dot("valueBuf").Op("=").Id(val),
		jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), key, jen.Id(val), t.timestamp()).Comment("to "+topicRef(topic)),
	)
}

// emitBoth writes a change within one group to repartition node r as one
// record: mark 2, the old row's length (4 bytes, big-endian), the old row, the
// new row.
func (t *taskGen) emitBoth(r *ir.Node, k, vOld, vNew string) []jen.Code {
	topic := r.Topics[0]
	id := t.topicIDs[topicKey{topic.Name, true}]
	name := topic.FullName(t.graph.DefaultAppID)
	out, key := t.encode(r.KeySerde, k, "keyBuf", t.l(fmt.Sprintf("key%d", r.ID)), "encode key for "+name)
	t.buffers["valueBuf"] = true
	val, err := t.l(fmt.Sprintf("value%d", r.ID)), t.l("err")
	serde := t.serde(r.ValueSerde)
	/*
		value2, err := serde.Encode(append(t.valueBuf[:0], 2, 0, 0, 0, 0), v1_old) // mark 2: both rows
		binary.BigEndian.PutUint32(value2[1:5], uint32(len(value2)-5))
		value2, err = serde.Encode(value2, v1_new)
	*/
	return append(out,
		jen.List(jen.Id(val), jen.Id(err)).Op(":=").Add(serde).Dot("Encode").Call(
			jen.Append(jen.Id(t.l("t")).Dot("valueBuf").Index(jen.Empty(), jen.Lit(0)), jen.Lit(int(ir.ChangeBoth)), jen.Lit(0), jen.Lit(0), jen.Lit(0), jen.Lit(0)), jen.Id(vOld)).
			Comment("mark 2: both rows, the old one's length first"),
		t.fail("encode value for "+name),
		jen.Qual("encoding/binary", "BigEndian").Dot("PutUint32").Call(jen.Id(val).Index(jen.Lit(1), jen.Lit(5)), jen.Uint32().Call(jen.Len(jen.Id(val)).Op("-").Lit(5))),
		jen.List(jen.Id(val), jen.Id(err)).Op("=").Add(t.serde(r.ValueSerde)).Dot("Encode").Call(jen.Id(val), jen.Id(vNew)),
		t.fail("encode value for "+name),
		jen.Id(t.l("t")).Dot("valueBuf").Op("=").Id(val),
		jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), key, jen.Id(val), t.timestamp()).Comment("to "+topicRef(topic)),
	)
}

// changeSource emits what a Source reading a repartition topic of changes does
// with a record: read its mark, decode the row (or, mark 2, both rows), and
// hand on a change that adds, subtracts, or subtracts and adds.
func (t *taskGen) changeSource(src *ir.Node, k, v string) []jen.Code {
	mark := t.l(fmt.Sprintf("mark%d", src.ID))
	add, sub, old := t.l(fmt.Sprintf("add%d", src.ID)), t.l(fmt.Sprintf("sub%d", src.ID)), t.l(fmt.Sprintf("old%d", src.ID))
	n, r, err := t.l(fmt.Sprintf("n%d", src.ID)), t.l("r"), t.l(fmt.Sprintf("decodeErr%d", src.ID))
	failDecode := jen.If(jen.Id(err).Op("!=").Nil()).Block(jen.Return(jen.Id(r).Dot("Fail").Call(jen.Lit("decode value"), jen.Id(err))))
	serde := func() *jen.Statement { return t.serde(src.ValueSerde) }
	return append([]jen.Code{
		jen.If(jen.Len(jen.Id(r).Dot("Value")).Op("==").Lit(0)).Block(
			jen.Return(jen.Id(r).Dot("Fail").Call(jen.Lit("decode value"), jen.Qual("errors", "New").Call(jen.Lit("a change record without its mark byte"))))),
		jen.Id(mark).Op(":=").Id(r).Dot("Value").Index(jen.Lit(0)),
		jen.List(jen.Id(add), jen.Id(sub)).Op(":=").List(jen.Id(mark).Op("!=").Lit(int(ir.ChangeSubtract)), jen.Id(mark).Op("!=").Lit(int(ir.ChangeAdd))),
		jen.Var().List(jen.Id(v), jen.Id(old)).Add(typ(src.Value)),
		jen.Var().Id(err).Error(),
		jen.If(jen.Id(mark).Op("==").Lit(int(ir.ChangeBoth))).Block(
			jen.If(jen.Len(jen.Id(r).Dot("Value")).Op("<").Lit(5)).Block(
				jen.Return(jen.Id(r).Dot("Fail").Call(jen.Lit("decode value"), jen.Qual("errors", "New").Call(jen.Lit("a change record of both rows without the old one's length"))))),
			jen.Id(n).Op(":=").Lit(5).Op("+").Uint64().Call(jen.Qual("encoding/binary", "BigEndian").Dot("Uint32").Call(jen.Id(r).Dot("Value").Index(jen.Lit(1), jen.Lit(5)))),
			jen.If(jen.Id(n).Op(">").Uint64().Call(jen.Len(jen.Id(r).Dot("Value")))).Block(
				jen.Return(jen.Id(r).Dot("Fail").Call(jen.Lit("decode value"), jen.Qual("errors", "New").Call(jen.Lit("a change record of both rows cut short"))))),
			jen.List(jen.Id(old), jen.Id(err)).Op("=").Add(serde()).Dot("Decode").Call(jen.Id(r).Dot("Value").Index(jen.Lit(5), jen.Id(n))),
			failDecode,
			jen.List(jen.Id(v), jen.Id(err)).Op("=").Add(serde()).Dot("Decode").Call(jen.Id(r).Dot("Value").Index(jen.Id(n), jen.Empty())),
		).Else().Block(
			jen.List(jen.Id(v), jen.Id(err)).Op("=").Add(serde()).Dot("Decode").Call(jen.Id(r).Dot("Value").Index(jen.Lit(1), jen.Empty())),
			jen.Id(old).Op("=").Id(v),
		),
		failDecode,
	}, t.tableChildren(src, change{k: k, nv: v, hasNew: add, ov: old, hasOld: sub}, modeLoop)...)
}

// deletesSource emits what a Source reading back a repartition topic written
// after ToStream does with a record: a tombstone is a delete again, a record
// without a value for the steps that follow.
func (t *taskGen) deletesSource(src *ir.Node, k, v string) []jen.Code {
	has := t.l(fmt.Sprintf("has%d", src.ID))
	out := []jen.Code{
		jen.Var().Id(v).Add(typ(src.Value)),
		jen.Id(has).Op(":=").Id(t.l("r")).Dot("Value").Op("!=").Nil().Comment("a tombstone: a delete forwarded by ToStream"),
		jen.If(jen.Id(has)).Block(
			jen.List(jen.Id(v), jen.Id(t.l("err"))).Op("=").Add(t.serde(src.ValueSerde)).Dot("Decode").Call(jen.Id(t.l("r")).Dot("Value")),
			t.fail("decode value"),
		),
	}
	return append(out, t.withPresent(v, has, func() []jen.Code { return t.children(src, 0, k, v, modeLoop) })...)
}

// tableSource emits what a Table source does with a record: upsert or (for a tombstone) delete in its store, and hand on the change.
func (t *taskGen) tableSource(src *ir.Node, k, v string) []jen.Code {
	field := t.stores[src.Store]
	has := t.l(fmt.Sprintf("has%d", src.ID))
	c := change{k: k, nv: v, hasNew: has}
	var out []jen.Code // a null key was dropped before its decoding (sourceLoop)
	if t.graph.NeedsOld(src) {
		c.ov, c.hasOld = t.l(fmt.Sprintf("old%d", src.ID)), t.l(fmt.Sprintf("hadOld%d", src.ID))
		out = append(out, jen.List(jen.Id(c.ov), jen.Id(c.hasOld), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(field).Dot("Get").Call(jen.Id(t.l("r")).Dot("Key")),
			t.fail("read store "+src.Store.Name))
	}
	var tombstoneTime, valueTime []jen.Code
	if len(src.Fns) > 0 {
		tombstoneTime = t.recordTime(&ir.Node{Op: ir.OpTable}, k, v) // no value to extract a time from
		valueTime = t.recordTime(src, k, v)
	}
	writeFail := func(call jen.Code) jen.Code {
		return jen.If(jen.Id(t.l("err")).Op(":=").Add(call), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+src.Store.Name), jen.Id(t.l("err")))))
	}
	upsert := append([]jen.Code{
		jen.List(jen.Id(v), jen.Id(t.l("err"))).Op("=").Add(t.serde(src.ValueSerde)).Dot("Decode").Call(jen.Id(t.l("r")).Dot("Value")),
		t.fail("decode value"),
	}, valueTime...)
	put := []jen.Code{jen.Id(t.l("r")).Dot("Key"), jen.Id(v)}
	if src.Store.Timestamped {
		put = append(put, jen.Id(t.l("r")).Dot("Timestamp")) // the row's time is its record's
	}
	upsert = append(upsert, writeFail(jen.Id(t.l("t")).Dot(field).Dot("Put").Call(put...)))
	out = append(out,
		jen.Var().Id(v).Add(typ(src.Value)),
		jen.Id(has).Op(":=").Id(t.l("r")).Dot("Value").Op("!=").Nil().Comment("a tombstone (nil value) deletes the key"),
		jen.If(jen.Id(has)).Block(upsert...).Else().Block(append(tombstoneTime,
			writeFail(jen.Id(t.l("t")).Dot(field).Dot("Delete").Call(jen.Id(t.l("r")).Dot("Key"))))...),
	)
	if t.lookedUpOnly(src) {
		return append(out, jen.List(jen.Id("_"), jen.Id("_")).Op("=").List(jen.Id(k), jen.Id(v)).Comment("the table is only read by joins"))
	}
	return append(out, t.tableChildren(src, c, modeLoop)...)
}

// lookedUpOnly reports a table whose changes no step reads: only stream-table
// joins look it up.
func (t *taskGen) lookedUpOnly(n *ir.Node) bool {
	for _, c := range t.graph.Consumers(n, 0) {
		if c.Op != ir.OpStreamTableJoin {
			return false
		}
	}
	return true
}

func isPointer(tt types.Type) bool {
	_, ok := tt.Underlying().(*types.Pointer)
	return ok
}
