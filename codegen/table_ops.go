package codegen

// Stateful table steps and joins: ToTable, the aggregations of a grouped table,
// and the stream-table and table-table joins (see table.go for changes).

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// storeKey encodes key variable k for store s into the task's store-key buffer.
func (t *taskGen) storeKey(n *ir.Node, s *ir.Store, k string) ([]jen.Code, jen.Code) {
	return t.encode(s.KeySerde, k, "storeKey", t.l(fmt.Sprintf("sk%d_%s", n.ID, camel(s.Name))), "encode key for store "+s.Name)
}

// lookup reads the value of store s for the encoded key into val and found.
func (t *taskGen) lookup(s *ir.Store, key jen.Code, val, found string) []jen.Code {
	return []jen.Code{
		jen.List(jen.Id(val), jen.Id(found), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(t.stores[s]).Dot("Get").Call(key),
		t.fail("read store " + s.Name),
	}
}

// lookupTimed is lookup in a timestamped store, which also reads the row's
// timestamp into ts (0 without a row).
func (t *taskGen) lookupTimed(s *ir.Store, key jen.Code, val, ts, found string) []jen.Code {
	return []jen.Code{
		jen.List(jen.Id(val), jen.Id(ts), jen.Id(found), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(t.stores[s]).Dot("GetTimed").Call(key),
		t.fail("read store " + s.Name),
	}
}

// writeStore calls a store method that returns only an error.
func (t *taskGen) writeStore(s *ir.Store, method string, args ...jen.Code) jen.Code {
	return jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(t.stores[s]).Dot(method).Call(args...), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))))
}

// toTable upserts the stream's record into the store, or deletes its key for a
// record without a value, and hands on the change.
func (t *taskGen) toTable(n *ir.Node, k, v string, m mode) []jen.Code {
	s := n.Store
	out, key := t.storeKey(n, s, k)
	c := change{k: k, nv: v, hasNew: "true"}
	if has, ok := t.present[v]; ok {
		c.hasNew = has
	}
	if t.graph.NeedsOld(n) {
		c.ov, c.hasOld = t.l(fmt.Sprintf("old%d", n.ID)), t.l(fmt.Sprintf("hadOld%d", n.ID))
		out = append(out, t.lookup(s, key, c.ov, c.hasOld)...)
	}
	put := []jen.Code{key, jen.Id(v)}
	if s.Timestamped {
		put = append(put, t.timestamp()) // the row's time is its record's
	}
	if c.hasNew == "true" {
		out = append(out, t.writeStore(s, "Put", put...))
	} else {
		out = append(out, jen.If(jen.Id(c.hasNew)).Block(t.writeStore(s, "Put", put...)).Else().Block(t.writeStore(s, "Delete", key)))
	}
	rest := t.withPresent(v, "", func() []jen.Code { delete(t.present, v); return t.tableChildren(n, c, m) })
	return t.guardNullKey(n, k, m, append(out, rest...))
}

// tableAggregate updates a grouped table's aggregate: it subtracts the old row
// (when the group has an aggregate) and adds the new one, as Kafka Streams'
// KTableAggregate and KTableReduce do, then stores and hands on the result. A
// subtraction from a group without an aggregate changes nothing.
func (t *taskGen) tableAggregate(n *ir.Node, c change, m mode) []jen.Code {
	s := n.Store
	out, key := t.storeKey(n, s, c.k)
	slot, agg, found := t.l(fmt.Sprintf("slot%d", n.ID)), t.l(fmt.Sprintf("agg%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID))
	out = append(out,
		jen.List(jen.Id(slot), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(t.stores[s]).Dot("Slot").Call(key),
		t.fail("read store "+s.Name),
		jen.List(jen.Id(agg), jen.Id(found)).Op(":=").Id(slot).Dot("Value").Call(),
	)
	next := change{k: c.k, nv: agg, hasNew: "true"}
	if t.graph.NeedsOld(n) {
		next.ov, next.hasOld = t.l(fmt.Sprintf("old%d", n.ID)), t.l(fmt.Sprintf("hadOld%d", n.ID))
		out = append(out, jen.List(jen.Id(next.ov), jen.Id(next.hasOld)).Op(":=").List(jen.Id(agg), jen.Id(found)))
	}
	var sub, add []jen.Code
	a := jen.Id(agg)
	switch n.Op {
	case ir.OpTableCount:
		sub = []jen.Code{a.Clone().Op("--"), jen.Id("_").Op("=").Id(c.ov).Comment("Count reads only the key")}
		add = []jen.Code{a.Clone().Op("++"), jen.Id("_").Op("=").Id(c.nv).Comment("Count reads only the key")}
	case ir.OpTableReduce:
		sub = []jen.Code{a.Clone().Op("=").Add(t.call(n.Fns[1], a.Clone(), jen.Id(c.ov)))}
		add = []jen.Code{jen.If(jen.Id(found)).Block(a.Clone().Op("=").Add(t.call(n.Fns[0], a.Clone(), jen.Id(c.nv)))).Else().Block(a.Clone().Op("=").Id(c.nv))}
	default:
		sub = []jen.Code{a.Clone().Op("=").Add(t.call(n.Fns[2], jen.Id(c.k), jen.Id(c.ov), a.Clone()))}
		add = []jen.Code{
			jen.If(jen.Op("!").Id(found)).Block(a.Clone().Op("=").Add(t.call(n.Fns[0]))),
			a.Clone().Op("=").Add(t.call(n.Fns[1], jen.Id(c.k), jen.Id(c.nv), a.Clone())),
		}
	}
	set := []jen.Code{jen.Id(slot), a.Clone()}
	if s.Timestamped {
		set = append(set, t.timestamp())
	}
	rest := []jen.Code{
		jen.If(jen.Id(c.hasOld).Op("&&").Id(found)).Block(sub...), // both rows: nothing to subtract from a group without an aggregate
		jen.If(jen.Id(c.hasNew)).Block(add...),
		jen.Id(t.l("t")).Dot(t.stores[s]).Dot("Set").Call(set...),
	}
	stamp, restore := t.aggTime(n)
	defer restore()
	rest = append(append(rest, stamp...), t.tableChildren(n, next, m)...)
	cond := jen.Id(found).Op("||").Id(c.hasNew)
	out = append(out, jen.Comment("a subtraction from a group without an aggregate changes nothing"))
	return append(out, t.skipUnless(cond, m, rest)...)
}

// aggTime is, for an unwindowed aggregation whose store is timestamped (it
// feeds a table-table join), the statement naming the timestamp of the
// aggregate it just set, which it makes the time of what follows: the later
// of the record's and the old aggregate's, as Kafka Streams' KStreamAggregate,
// KStreamReduce, KTableAggregate and KTableReduce stamp it. restore gives back
// the time before. Other aggregations keep the record's time.
func (t *taskGen) aggTime(n *ir.Node) (stamp []jen.Code, restore func()) {
	if !n.Store.Timestamped {
		return nil, func() {}
	}
	ts := t.l(fmt.Sprintf("ts%d", n.ID))
	outer := t.resultTime
	t.resultTime = ts
	stamp = []jen.Code{jen.Id(ts).Op(":=").Id(t.l(fmt.Sprintf("slot%d", n.ID))).Dot("Timestamp").Call().Comment("the later of the record's and the old aggregate's")}
	return stamp, func() { t.resultTime = outer }
}

// streamTableJoin joins the stream's record with the table's current value for
// its key: an inner join drops the record when the table has none, a left join
// passes nil. A record with a null key is dropped and counted by an inner
// join; a left join passes nil for it without a lookup, as Kafka Streams 3.7+
// (KIP-962, KStreamKTableJoinProcessor).
func (t *taskGen) streamTableJoin(n *ir.Node, k, v string, m mode) []jen.Code {
	s := n.TableJoin.Right
	look, key := t.storeKey(n, s, k)
	vt, found := t.l(fmt.Sprintf("vt%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID))
	look = append(look, t.lookup(s, key, vt, found)...)
	_, nv := t.vars(n)
	args := []jen.Code{jen.Id(v)}
	if n.TableJoin.WithKey {
		args = []jen.Code{jen.Id(k), jen.Id(v)}
	}
	if n.TableJoin.Kind != ir.LeftJoin {
		rest := append([]jen.Code{jen.Id(nv).Op(":=").Add(t.call(n.Fns[0], append(args, jen.Id(vt))...))}, t.children(n, 0, k, nv, m)...)
		return t.guardNullKey(n, k, m, append(look, t.skipUnless(jen.Id(found), m, rest)...))
	}
	ptr := t.l(fmt.Sprintf("pt%d", n.ID))
	look = append(look, jen.If(jen.Id(found)).Block(jen.Id(ptr).Op("=").Op("&").Id(vt)))
	out := []jen.Code{jen.Var().Id(ptr).Op("*").Add(typ(s.Value)).Comment("nil: the table holds no value for the key")}
	if null := t.nullKey(n, k); null != nil {
		out = append(out, jen.Comment("a null key joins nothing: no lookup"), jen.If(jen.Op("!").Parens(null)).Block(look...))
	} else {
		out = append(out, look...)
	}
	out = append(out, jen.Id(nv).Op(":=").Add(t.call(n.Fns[0], append(args, jen.Id(ptr))...)))
	return append(out, t.children(n, 0, k, nv, m)...)
}

// tableJoin emits a table-table join for a change of one side: it reads the
// other side's current value and computes the joined change, as Kafka Streams'
// KTableKTable{Inner,Left,Outer}Join do. For an inner join, and for a left join
// updated on its right side, nothing is emitted while the other side (the left
// one for a left join) holds no value; otherwise a change is dropped only when
// neither side holds a row nor held one before it (ir.Graph.NeedsOld makes
// the side's table hand on its old row for that). The joined change, a delete
// too, takes the later of the change's timestamp and the other row's (the
// sides' stores are timestamped), as Kafka Streams 3.x stamps it.
func (t *taskGen) tableJoin(from, n *ir.Node, c change, m mode) []jen.Code {
	j := n.TableJoin
	leftSide := n.Inputs[0].Node == from
	other := j.Right
	if !leftSide {
		other = j.Left
	}
	out, key := t.storeKey(n, other, c.k)
	ov, found := t.l(fmt.Sprintf("other%d", n.ID)), t.l(fmt.Sprintf("found%d", n.ID))
	ots, ts := t.l(fmt.Sprintf("otherTs%d", n.ID)), t.l(fmt.Sprintf("ts%d", n.ID))
	out = append(out, t.lookupTimed(other, key, ov, ots, found)...)
	// The joined row's time is the later of the change's and the other row's
	// (0 without one: times are never negative).
	stamp := jen.Id(ts).Op(":=").Max(t.timestamp(), jen.Id(ots))
	outer := t.resultTime
	t.resultTime = ts
	defer func() { t.resultTime = outer }()
	join := func(dst, hasDst, v, has string) []jen.Code {
		return t.joinedRow(n, leftSide, c.k, ov, found, dst, hasDst, v, has)
	}
	_, nv := t.vars(n)
	hasNew := t.l(fmt.Sprintf("has%d", n.ID))
	body := join(nv, hasNew, c.nv, c.hasNew)
	next := change{k: c.k, nv: nv, hasNew: hasNew}
	if c.ov != "" && t.graph.NeedsOld(n) {
		next.ov, next.hasOld = t.l(fmt.Sprintf("old%d", n.ID)), t.l(fmt.Sprintf("hadOld%d", n.ID))
		body = append(body, join(next.ov, next.hasOld, c.ov, c.hasOld)...)
	} else if c.ov != "" {
		// Only whether there was an old row matters here (the condition below).
		out = append(out, jen.Id("_").Op("=").Id(c.ov))
	}
	body = append(body, t.tableChildren(n, next, m)...)
	if reads(body, ts) {
		out = append(out, stamp)
	} else {
		out = append(out, jen.Id("_").Op("=").Id(ots).Comment("nothing after the join reads its time"))
	}
	// Inner joins, and left joins updated on the right, need the other side;
	// otherwise a change in which neither side has a row is dropped.
	if j.Kind == ir.InnerJoin || (j.Kind == ir.LeftJoin && !leftSide) {
		return append(out, t.skipUnless(jen.Id(found), m, body)...)
	}
	cond := jen.Id(found).Op("||").Id(c.hasNew)
	if c.ov != "" {
		cond = cond.Op("||").Id(c.hasOld)
	}
	return append(out, t.skipUnless(cond, m, body)...)
}

// joinedRow emits into dst the joined value of a table join's row v on the
// changed side (present when has) with the other side's ov (present when
// found), and into hasDst whether the joined row exists.
func (t *taskGen) joinedRow(n *ir.Node, leftSide bool, k, ov, found, dst, hasDst, v, has string) []jen.Code {
	j := n.TableJoin
	// Whether each side may be absent in the joiner (then it takes a pointer).
	leftOpt, rightOpt := j.Kind == ir.OuterJoin, j.Kind != ir.InnerJoin
	var l, r jen.Code
	var decl []jen.Code
	side := func(val, present string, opt bool, tag string) jen.Code {
		if !opt {
			return jen.Id(val)
		}
		p := t.l(fmt.Sprintf("p%d%s", n.ID, tag))
		decl = append(decl, jen.Var().Id(p).Op("*").Add(typOfVar(t, n, tag)), jen.If(jen.Id(present)).Block(jen.Id(p).Op("=").Op("&").Id(val)))
		return jen.Id(p)
	}
	if leftSide {
		l, r = side(v, has, leftOpt, dst+"l"), side(ov, found, rightOpt, dst+"r")
	} else {
		l, r = side(ov, found, leftOpt, dst+"l"), side(v, has, rightOpt, dst+"r")
	}
	// The joined row exists when the sides the join requires are there.
	var cond jen.Code
	switch {
	case j.Kind == ir.InnerJoin:
		cond = jen.Id(has) // the other side is checked before
	case j.Kind == ir.LeftJoin && leftSide:
		cond = jen.Id(has)
	case j.Kind == ir.LeftJoin:
		cond = jen.True() // the left side is checked before
	default:
		cond = jen.Id(has).Op("||").Id(found)
	}
	args := []jen.Code{l, r}
	if j.WithKey {
		args = []jen.Code{jen.Id(k), l, r}
	}
	return append(append([]jen.Code{jen.Var().Id(dst).Add(typ(n.Value)), jen.Id(hasDst).Op(":=").Add(cond)}, decl...),
		jen.If(jen.Id(hasDst)).Block(jen.Id(dst).Op("=").Add(t.call(n.Fns[0], args...))))
}

// typOfVar is the type of a joiner's optional side: tag ends in "l" for the left
// table's value type, "r" for the right's.
func typOfVar(t *taskGen, n *ir.Node, tag string) jen.Code {
	if tag[len(tag)-1] == 'l' {
		return typ(n.TableJoin.Left.Value)
	}
	return typ(n.TableJoin.Right.Value)
}

// aggChange is the change an unwindowed stream aggregation hands on: its new
// aggregate in agg, and its old one when a later step subtracts it.
func (t *taskGen) aggChange(n *ir.Node, k, agg string) change {
	c := change{k: k, nv: agg, hasNew: "true"}
	if t.graph.NeedsOld(n) {
		c.ov, c.hasOld = t.l(fmt.Sprintf("old%d", n.ID)), t.l(fmt.Sprintf("hadOld%d", n.ID))
	}
	return c
}
