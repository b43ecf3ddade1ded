package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Suppress(UntilWindowCloses()) after a windowed aggregation. Each update of a
// window replaces the window's pending result in a state.SuppressBuffer (a store
// with a changelog, so a restart loses no pending result), due when stream time
// reaches the window's end plus grace (sessions: end plus gap plus grace): the
// Suppress's own stream time, which only the updates reaching it advance
// (optime.go), as Kafka Streams' KTableSuppressProcessor. After
// each update the buffer hands back, oldest first, the results that are due, and
// a method per Suppress node (final<ID>) runs the rest of the chain on each:
// exactly one record per window, with the window's timestamp. A session merged
// away is removed from the buffer (session.go), so it is never emitted.
//
//	t.streamTime7 = max(t.streamTime7, window time)
//	t.storeX.Put(windowed key bytes, end+grace, aggregate bytes, window time)
//	t.storeX.EvictUntil(t.streamTime7, func(key, value []byte, ts int64) error {
//		return t.final5(r, key, value, ts)
//	})
//
// Suppress(UntilTimeLimit(d, maxRecords)), on any table, uses the same buffer:
// a key's entry is due d after its first buffered update (Update keeps that
// time while the key waits, as Kafka Streams' buffer does), and when more than
// maxRecords keys wait the oldest are emitted early (EvictOldest):
//
//	t.storeX.Update(key bytes, record time, value bytes, record time)
//	t.storeX.EvictUntil(t.streamTime7-d, ...)
//	if n := t.storeX.Len() - maxRecords; n > 0 { t.storeX.EvictOldest(n, ...) }
//
// A buffer reads its backend (what a restart restored) at its first call.

// windowFields adds the task field windows need: the late-record counter, the
// sessions a record merges and the sliding windows a record updates.
func (t *taskGen) windowFields(fields *[]jen.Code, ctor jen.Dict) {
	if !hasWindows(t.st) {
		return
	}
	*fields = append(*fields, jen.Id("late").Op("*").Qual(runtimePath, "LateCounter").Comment("records that fell in no open window"))
	ctor[jen.Id("late")] = jen.Id(t.l("ctx")).Dot("Late")
	*fields = append(*fields, t.sessionFields()...)
	*fields = append(*fields, t.slidingFields()...)
}

// suppress buffers the update in k, v and emits the results now due.
func (t *taskGen) suppress(n *ir.Node, k, v string) []jen.Code {
	s := n.Store
	field := t.stores[s]
	buf := jen.Id(t.l("t")).Dot(field)
	kc, key := t.encode(s.KeySerde, k, "keyBuf", t.l(fmt.Sprintf("bk%d", n.ID)), "encode key for store "+s.Name)
	vc, val := t.encode(s.ValueSerde, v, "valueBuf", t.l(fmt.Sprintf("bv%d", n.ID)), "encode value for store "+s.Name)
	var out []jen.Code
	var put jen.Code
	var due *jen.Statement
	if n.Suppress.Kind == ir.UntilWindowCloses {
		out = append(out, jen.Commentf("%s: the window's latest result waits in %s until the window closes.", n, storeRef(s)))
		put = buf.Clone().Dot("Put").Call(key, closeTime(n, k), val, t.timestamp())
		due = t.clock(n)
	} else {
		out = append(out, jen.Commentf("%s: the key's latest update waits in %s until %v of stream time has passed since its first.", n, storeRef(s), n.Suppress.Limit))
		put = buf.Clone().Dot("Update").Call(key, t.timestamp(), val, t.timestamp())
		due = t.clock(n)
		if limit := int(n.Suppress.Limit.Milliseconds()); limit > 0 {
			due = due.Op("-").Lit(limit)
		}
	}
	out = append(append(append(out, t.advance(n, t.timestamp())...), kc...), vc...)
	out = append(out,
		jen.If(jen.Id(t.l("err")).Op(":=").Add(put), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
		),
	)
	method := fmt.Sprintf("final%d", n.ID)
	evict := jen.Func().Params(jen.Id(t.l("key")).Index().Byte(), jen.Id(t.l("value")).Index().Byte(), jen.Id(t.l("ts")).Int64()).Error().Block(
		jen.Return(jen.Id(t.l("t")).Dot(method).Call(jen.Id(t.l("r")), jen.Id(t.l("key")), jen.Id(t.l("value")), jen.Id(t.l("ts")))),
	)
	out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Add(buf.Clone()).Dot("EvictUntil").Call(due, evict), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("err"))),
	))
	if max := n.Suppress.MaxRecords; n.Suppress.Kind == ir.UntilTimeLimit && max > 0 {
		/*
			if n := t.buffer.Len() - 2; n > 0 { // over maxRecords: the oldest go early
				t.buffer.EvictOldest(n, ...)
			}
		*/
		over := t.l(fmt.Sprintf("over%d", n.ID))
		out = append(out, jen.If(jen.Id(over).Op(":=").Add(buf.Clone()).Dot("Len").Call().Op("-").Lit(max), jen.Id(over).Op(">").Lit(0)).Block(
			jen.If(jen.Id(t.l("err")).Op(":=").Add(buf.Clone()).Dot("EvictOldest").Call(jen.Id(over), evict), jen.Id(t.l("err")).Op("!=").Nil()).Block(
				jen.Return(jen.Id(t.l("err"))),
			),
		).Commentf("over %d buffered keys: the oldest are emitted early", max))
	}
	t.methods = append(t.methods, t.finalMethod(n, method))
	return out
}

// closeTime is when the window of the windowed key in k closes: its end plus
// grace (sessions: plus gap and grace, as Kafka Streams' suppression of a
// session-windowed table).
func closeTime(n *ir.Node, k string) jen.Code {
	w := windowNode(n).Window // the frontend gives UntilWindowCloses only to a windowed table
	after := w.Grace
	if w.Kind == ir.SessionWindow {
		after += w.Gap
	}
	return jen.Id(k).Dot("End").Dot("UnixMilli").Call().Op("+").Lit(int(after.Milliseconds()))
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
		jen.Commentf("%s runs the chain after %s (at %s) on a result it releases, as the", method, n, posRef(n)),
		jen.Commentf("record r was being processed; key and value are valid only during the call."),
		jen.Func().Params(recv).Id(method).Params(
			jen.Id(t.l("r")).Op("*").Qual(runtimePath, "Record"), jen.Id(t.l("key")).Index().Byte(), jen.Id(t.l("value")).Index().Byte(), jen.Id(t.l("ts")).Int64(),
		).Error().Block(append(body, jen.Return(jen.Nil()))...),
	}
}
