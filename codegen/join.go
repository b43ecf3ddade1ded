package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// A windowed stream-stream join (ir/join.go) is a segment of its own, like a
// merge: each side's chain calls the side's method with the record, and both
// emit through one method that runs the rest of the chain at a given time.
//
//	func (t *T) join5Left(r *runtime.Record, k5 K, v V1, ts int64) error {
//		t.storeThis.Expire(t.join5Times.Advance(true, ts))  // this side's buffer, by this side's time
//		if ts == t.join5Times.Join { t.join5Closed(r) }     // left/outer: emit closed non-matches
//		key := encode(k5)                                   // the stores' key
//		t.storeThis.Put(key, ts, v)
//		n, _ := t.storeOther.Fetch(key, ts-before, ts+after)    // the matches, in the store
//		for i := range n { t.storeOuter.Remove(ots(i), right, key) } // left/outer: they have joined now
//		for i := range n { ots, ov := t.storeOther.At(i); t.join5Emit(r, k5, joiner(k5, v, ov), max(ts, ots)) }
//		n == 0 (left/outer): emit with nil if its window has closed, else t.storeOuter.Put(ts, left, key, v)
//	}
//
// The right side mirrors it (before and after swapped). Stream time is the
// join's own (runtime.JoinTimes), not the task's, as in Kafka Streams: the
// join's, which both sides advance, closes windows; each side's expires its
// buffer, so the other side's buffer is read as that side last left it.

// joinStoreField is the task field of one of a join's stores.
func (t *taskGen) joinStoreField(i int, s *ir.Store) (jen.Code, jen.Code) {
	j := s.Node.Join
	backend := jen.Id(t.l("ctx")).Dot("Stores").Index(jen.Lit(i))
	if s == j.Outer {
		return jen.Op("*").Qual(statePath, "OuterJoinStore"), jen.Qual(statePath, "NewOuterJoinStore").Call(backend)
	}
	spec := jen.Qual(statePath, "JoinSpec").Values(jen.Id("Retention").Op(":").Lit(joinRetention(j))) // before + after + grace, ms
	return jen.Op("*").Qual(statePath, "JoinStore").Types(typ(s.Value)),
		jen.Qual(statePath, "NewJoinStore").Types(typ(s.Value)).Call(backend, t.serde(s.ValueSerde).Dot("Encode"), t.serde(s.ValueSerde).Dot("Decode"), spec, jen.Id(t.l("ctx")).Dot("CacheEntries"))
}

// joinRetention is how long a side's store keeps a record, at least 1 ms.
func joinRetention(j *ir.Join) int { return max(1, int(j.Retention().Milliseconds())) }

// joinStoreKind is the StoreSpec Kind and Retention of a join's store: the
// sides' stores expire by time; the outer store deletes what it emits, so its
// changelog is compacted only.
func joinStoreKind(s *ir.Store) []jen.Code {
	j := s.Node.Join
	if s == j.Outer {
		return nil
	}
	return []jen.Code{
		jen.Id("Kind").Op(":").Qual(runtimePath, "WindowStore"),
		jen.Id("Retention").Op(":").Lit(joinRetention(j)).Op("*").Qual("time", "Millisecond"),
	}
}

// joinTimesField is the task field of join n's stream times.
func joinTimesField(n *ir.Node) string { return fmt.Sprintf("join%dTimes", n.ID) }

// joinFields adds the stream times of the sub-topology's joins to the task.
func (t *taskGen) joinFields(fields *[]jen.Code, ctor jen.Dict) {
	for _, n := range t.st.Segments {
		if n.Op == ir.OpJoin {
			*fields = append(*fields, jen.Id(joinTimesField(n)).Qual(runtimePath, "JoinTimes").Commentf("the stream times of %s", n))
			ctor[jen.Id(joinTimesField(n))] = jen.Qual(runtimePath, "NewJoinTimes").Call(jen.Id(t.l("ctx")).Dot("StreamTime"))
		}
	}
}

// joinCall is the code of a chain reaching join n from input from: a call of
// the side's method (both, one after the other, for a self-join).
func (t *taskGen) joinCall(n *ir.Node, from ir.Port, k, v string) []jen.Code {
	var out []jen.Code
	for i, in := range n.Inputs {
		if in != from {
			continue
		}
		out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(joinMethod(n, i)).Call(jen.Id(t.l("r")), jen.Id(k), jen.Id(v), t.timestamp()), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("err")))))
	}
	return out
}

func joinMethod(n *ir.Node, side int) string {
	if side == 0 {
		return fmt.Sprintf("join%dLeft", n.ID)
	}
	return fmt.Sprintf("join%dRight", n.ID)
}

// joinMethods are the methods of join n: one per side, the emitter of closed
// non-matches (left and outer joins), and the rest of the chain.
func (t *taskGen) joinMethods(recv jen.Code, n *ir.Node) [][]jen.Code {
	out := [][]jen.Code{t.joinSide(recv, n, 0), t.joinSide(recv, n, 1)}
	if n.Join.Outer != nil {
		out = append(out, t.joinClosed(recv, n))
	}
	return append(out, t.joinEmit(recv, n))
}

// joinArgs are the joiner's arguments for the left value l and the right value
// r (nil: absent), as the join's kind passes them.
func joinArgs(n *ir.Node, k string, l, r jen.Code, lAbsent, rAbsent bool) []jen.Code {
	var args []jen.Code
	if n.Fns[0].Sig.Params().Len() == 3 {
		args = append(args, jen.Id(k))
	}
	ptr := func(c jen.Code, absent bool) jen.Code {
		if absent {
			return jen.Nil()
		}
		return jen.Op("&").Add(c)
	}
	switch n.Join.Kind {
	case ir.InnerJoin:
		return append(args, l, r)
	case ir.LeftJoin:
		return append(args, l, ptr(r, rAbsent))
	}
	return append(args, ptr(l, lAbsent), ptr(r, rAbsent))
}

// joinSide is the method run for a record of side (0 left, 1 right) of n.
func (t *taskGen) joinSide(recv jen.Code, n *ir.Node, side int) []jen.Code {
	j := n.Join
	k, _ := t.vars(n)
	v, ts, key := t.l("v"), t.l(fmt.Sprintf("ts%d", n.ID)), t.l(fmt.Sprintf("jk%d", n.ID))
	ov, ots, cnt, i := t.l("ov"), t.l("ots"), t.l("found"), t.l("i")
	errID, r := jen.Id(t.l("err")), jen.Id(t.l("r"))
	this, other := j.This, j.Other
	before, after := j.Before.Milliseconds(), j.After.Milliseconds()
	vt := n.Inputs[side].Node.Value
	emitsNonMatch := j.Kind == ir.OuterJoin || (j.Kind == ir.LeftJoin && side == 0)
	if side == 1 {
		this, other = other, this
		before, after = after, before
	}
	field := func(s *ir.Store) *jen.Statement { return jen.Id(t.l("t")).Dot(t.stores[s]) }
	failOn := func(call jen.Code, stage string) jen.Code {
		return jen.If(errID.Clone().Op(":=").Add(call), errID.Clone().Op("!=").Nil()).Block(jen.Return(r.Clone().Dot("Fail").Call(jen.Lit(stage), errID.Clone())))
	}
	emit := func(value jen.Code, at jen.Code) jen.Code {
		return jen.If(errID.Clone().Op(":=").Id(t.l("t")).Dot(fmt.Sprintf("join%dEmit", n.ID)).Call(r, jen.Id(k), value, at), errID.Clone().Op("!=").Nil()).Block(jen.Return(errID.Clone()))
	}
	times := jen.Id(t.l("t")).Dot(joinTimesField(n))
	body := t.joinNullKey(n, side, k, v, ts, times, emitsNonMatch)
	body = append(body,
		failOn(field(this).Dot("Expire").Call(times.Clone().Dot("Advance").Call(jen.Lit(side == 0), jen.Id(ts))), "expire store "+this.Name),
	)
	if j.Outer != nil {
		// Before the key is encoded: what it emits may reuse the key buffer.
		body = append(body, jen.Comment("Stream time moved: emit the non-matches whose window closed."), jen.If(jen.Id(ts).Op("==").Add(times.Clone()).Dot("Join")).Block(
			jen.If(errID.Clone().Op(":=").Id(t.l("t")).Dot(fmt.Sprintf("join%dClosed", n.ID)).Call(r), errID.Clone().Op("!=").Nil()).Block(jen.Return(errID.Clone())),
		))
	}
	enc, keyExpr := t.encode(j.KeySerde, k, "joinKey", key, "encode key for store "+this.Name)
	body = append(body, enc...)
	body = append(body,
		failOn(field(this).Dot("Put").Call(keyExpr, jen.Id(ts), jen.Id(v)), "write store "+this.Name),
		jen.List(jen.Id(cnt), errID.Clone()).Op(":=").Add(field(other)).Dot("Fetch").Call(keyExpr, jen.Max(jen.Lit(0), jen.Id(ts).Op("-").Lit(int(before))), jen.Max(jen.Lit(0), jen.Id(ts).Op("+").Lit(int(after)))),
		jen.If(errID.Clone().Op("!=").Nil()).Block(jen.Return(r.Clone().Dot("Fail").Call(jen.Lit("read store "+other.Name), errID.Clone()))),
	)
	if j.Outer != nil {
		// Removed before any is emitted: what the chain after the join does may reuse the key buffer.
		body = append(body, jen.Comment("They have joined now: they are no longer non-matches."), jen.For(jen.Id(i).Op(":=").Range().Id(cnt)).Block(
			jen.List(jen.Id(ots), jen.Id("_")).Op(":=").Add(field(other)).Dot("At").Call(jen.Id(i)),
			failOn(field(j.Outer).Dot("Remove").Call(jen.Id(ots), jen.Lit(side == 1), keyExpr), "write store "+j.Outer.Name),
		))
	}
	// The joined value: joiner(left, right), this side's value on its side.
	var l, rv jen.Code = jen.Id(v), jen.Id(ov)
	if side == 1 {
		l, rv = rv, l
	}
	body = append(body, jen.For(jen.Id(i).Op(":=").Range().Id(cnt)).Block(
		jen.List(jen.Id(ots), jen.Id(ov)).Op(":=").Add(field(other)).Dot("At").Call(jen.Id(i)),
		emit(t.call(n.Fns[0], joinArgs(n, k, l, rv, false, false)...), jen.Max(jen.Id(ts), jen.Id(ots))),
	))
	if emitsNonMatch {
		lAbsent, rAbsent := side == 1, side == 0
		put, val := t.encode(n.Join.SideSerde(side), v, "valueBuf", t.l(fmt.Sprintf("jv%d", n.ID)), "encode value for store "+j.Outer.Name)
		put = append(put, failOn(field(j.Outer).Dot("Put").Call(jen.Id(ts), jen.Lit(side == 0), keyExpr, val), "write store "+j.Outer.Name))
		body = append(body, jen.Comment("No match: it waits in the outer store for its window to close."), jen.If(jen.Id(cnt).Op("==").Lit(0)).Block(append([]jen.Code{
			jen.If(jen.Max(jen.Lit(0), jen.Id(ts).Op("+").Lit(int(after))).Op("<").Add(times.Clone()).Dot("Join")).Block(
				jen.Comment("Its window has closed already: nothing can join it any more."),
				jen.Return(jen.Id(t.l("t")).Dot(fmt.Sprintf("join%dEmit", n.ID)).Call(r, jen.Id(k), t.call(n.Fns[0], joinArgs(n, k, l, rv, lAbsent, rAbsent)...), jen.Id(ts))),
			)}, put...)...,
		))
	}
	body = append(body, jen.Return(jen.Nil()))
	name := "left"
	if side == 1 {
		name = "right"
	}
	return []jen.Code{
		jen.Commentf("%s runs %s (at %s) for a record of its %s side at time %s.", joinMethod(n, side), n, posRef(n), name, ts),
		jen.Func().Params(recv).Id(joinMethod(n, side)).Params(
			r.Clone().Op("*").Qual(runtimePath, "Record"), jen.Id(k).Add(typ(n.Key)), jen.Id(v).Add(typ(vt)), jen.Id(ts).Int64(),
		).Error().Block(body...),
	}
}

// joinNullKey is what a side's method does first with a record whose key is
// null, as Kafka Streams 3.7+ (KIP-962, KStreamKStreamJoin): a side that emits
// non-matches (the left of a left join, both of an outer join) emits it at
// once, at its time, with nil for the other side, without looking for a
// match or for closed non-matches; the other sides drop and count it.
func (t *taskGen) joinNullKey(n *ir.Node, side int, k, v, ts string, times *jen.Statement, emitsNonMatch bool) []jen.Code {
	null := t.nullKeyFrom(n.Inputs[side].Node, k)
	if null == nil {
		return nil
	}
	// Kafka Streams' shared time tracker counts a null key too, before it drops or emits it.
	advance := times.Clone().Dot("Join").Op("=").Max(times.Clone().Dot("Join"), jen.Id(ts))
	if !emitsNonMatch {
		return append([]jen.Code{advance}, t.dropNullKey(null, modeMethod, nil)...)
	}
	var l, r jen.Code = jen.Id(v), nil
	if side == 1 {
		l, r = r, l
	}
	return []jen.Code{advance, jen.If(null).Block(
		jen.Comment("A null key joins nothing: emitted at once with nil for the other side."),
		jen.Return(jen.Id(t.l("t")).Dot(fmt.Sprintf("join%dEmit", n.ID)).Call(jen.Id(t.l("r")), jen.Id(k), t.call(n.Fns[0], joinArgs(n, k, l, r, side == 1, side == 0)...), jen.Id(ts))),
	)}
}

// joinClosed is the method emitting, with nil for the absent side, the
// non-matches of a left or outer join whose window has closed.
func (t *taskGen) joinClosed(recv jen.Code, n *ir.Node) []jen.Code {
	j := n.Join
	k, _ := t.vars(n)
	errID, r := jen.Id(t.l("err")), jen.Id(t.l("r"))
	ts, left, key, value := t.l("ts"), t.l("left"), t.l("key"), t.l("value")
	method := fmt.Sprintf("join%dClosed", n.ID)
	decode := func(s *ir.Serde, dst, src, stage string) []jen.Code {
		return []jen.Code{
			jen.List(jen.Id(dst), errID.Clone()).Op(":=").Add(t.serde(s)).Dot("Decode").Call(jen.Id(src)),
			jen.If(errID.Clone().Op("!=").Nil()).Block(jen.Id(t.l("failed")).Op("=").Add(r.Clone().Dot("Fail").Call(jen.Lit(stage), errID.Clone())), jen.Return(jen.Id(t.l("failed")))),
		}
	}
	emit := func(args []jen.Code) jen.Code {
		return jen.Id(t.l("failed")).Op("=").Id(t.l("t")).Dot(fmt.Sprintf("join%dEmit", n.ID)).Call(r, jen.Id(k), t.call(n.Fns[0], args...), jen.Id(ts))
	}
	fn := decode(j.KeySerde, k, key, "decode key from store "+j.Outer.Name)
	fn = append(fn, jen.If(jen.Id(left)).Block(append(decode(j.LeftSerde, t.l("lv"), value, "decode value from store "+j.Outer.Name),
		emit(joinArgs(n, k, jen.Id(t.l("lv")), nil, false, true)),
		jen.Return(jen.Id(t.l("failed"))))...))
	if j.Kind == ir.OuterJoin {
		fn = append(fn, decode(j.RightSerde, t.l("rv"), value, "decode value from store "+j.Outer.Name)...)
		fn = append(fn, emit(joinArgs(n, k, nil, jen.Id(t.l("rv")), true, false)))
	} else {
		fn = append(fn, jen.Id("_").Op("=").Id(value).Comment("a left join keeps only left records there"))
	}
	fn = append(fn, jen.Return(jen.Id(t.l("failed"))))
	leftLook, rightLook := (j.After + j.Grace).Milliseconds(), (j.Before + j.Grace).Milliseconds()
	if j.Kind == ir.LeftJoin {
		rightLook = leftLook // it holds no right records: its scan stops at the first open one
	}
	return []jen.Code{
		jen.Commentf("%s emits the records that joined nothing in %s and whose window has closed by stream time.", method, n),
		jen.Func().Params(recv).Id(method).Params(r.Clone().Op("*").Qual(runtimePath, "Record")).Error().Block(
			jen.Var().Id(t.l("failed")).Error().Comment("an error of the chain after the join, which names its record"),
			errID.Clone().Op(":=").Id(t.l("t")).Dot(t.stores[j.Outer]).Dot("EmitClosed").Call(jen.Id(t.l("t")).Dot(joinTimesField(n)).Dot("Join"), jen.Lit(int(leftLook)), jen.Lit(int(rightLook)),
				jen.Func().Params(jen.Id(ts).Int64(), jen.Id(left).Bool(), jen.Id(key).Index().Byte(), jen.Id(value).Index().Byte()).Error().Block(fn...)),
			jen.If(jen.Id(t.l("failed")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("failed")))),
			jen.If(errID.Clone().Op("!=").Nil()).Block(jen.Return(r.Clone().Dot("Fail").Call(jen.Lit("read store "+j.Outer.Name), errID.Clone()))),
			jen.Return(jen.Nil()),
		),
	}
}

// joinEmit runs the chain after join n on a joined record at time ts.
func (t *taskGen) joinEmit(recv jen.Code, n *ir.Node) []jen.Code {
	k, v := t.vars(n)
	ts := t.l(fmt.Sprintf("rts%d", n.ID))
	outer := t.resultTime
	t.resultTime = ts
	defer func() { t.resultTime = outer }()
	method := fmt.Sprintf("join%dEmit", n.ID)
	body := append(t.children(n, 0, k, v, modeMethod), jen.Return(jen.Nil()))
	return []jen.Code{
		jen.Commentf("%s runs the chain after %s (at %s) for a joined record at time %s.", method, n, posRef(n), ts),
		jen.Func().Params(recv).Id(method).Params(
			jen.Id(t.l("r")).Op("*").Qual(runtimePath, "Record"), jen.Id(k).Add(typ(n.Key)), jen.Id(v).Add(typ(n.Value)), jen.Id(ts).Int64(),
		).Error().Block(body...),
	}
}

// copartitionFields is the Program's CopartitionGroups field, if the topology
// has joins: the topics each join reads, which the engine checks at start-up.
func (tg *topologyGen) copartitionFields() []jen.Code {
	var groups []jen.Code
	for _, g := range ir.CopartitionGroups(tg.graph) {
		var ids []jen.Code
		for _, t := range g.Topics {
			ids = append(ids, jen.Lit(tg.topicIDs[topicKey{t.Name, t.Kind != ir.ExternalTopic}]))
		}
		groups = append(groups, jen.Values(
			field("Topics", jen.Index().Qual(runtimePath, "TopicID").Values(ids...)),
			field("Reason", jen.Lit(g.Reason)),
		))
	}
	if len(groups) == 0 {
		return nil
	}
	return []jen.Code{field("CopartitionGroups", jen.Index().Qual(runtimePath, "CopartitionGroup").Values(fieldList(groups)...))}
}
