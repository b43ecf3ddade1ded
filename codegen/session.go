package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Session windows, as Kafka Streams' KStreamSessionWindowAggregate: a record at
// time ts of key k joins every session of k that ends at or after ts - gap and
// starts at or before ts + gap. Their aggregates are merged (Count adds, Reduce
// reduces, Aggregate calls the SessionMerger), the merged sessions are removed,
// the record is added, and the session [min start, max end] is stored and passed
// on with the key streams.Windowed[K] and the latest timestamp of its records. A
// record is late when its merged session ends more than gap + grace before the
// step's stream time (optime.go): it is then counted, sent to the late topic if
// any, and not added.
//
// As in Kafka Streams, unless the new session is just [ts, ts], each session
// merged away (or grown) is forwarded as a delete of its key, with its end as
// timestamp, before the new session: a sink after ToStream gets a tombstone (a
// nil value), and a Suppress(UntilWindowCloses()) drops the session's pending
// result, so a merged-away session is never emitted. The chain's user functions
// (Map, Filter, ...) take typed values, which have no "deleted": a delete stops
// before the first of them (tombstones).
//
//	t.sessions5 = t.sessions5[:0]
//	t.store.FindSessions(key, ts-gap, ts+gap, func(s, e int64, v V, vts int64) error {
//		remember [s, e]; widen [start, end]; merge v into agg
//	})
//	if end+gap+grace < t.streamTime5 { late }
//	else { remove the merged sessions; fold the record; Put(key, start, end, agg, latest) ... }

// sessionStoreField is the field type and constructor of a session store.
func (t *taskGen) sessionStoreField(s *ir.Store, codec []jen.Code) (jen.Code, jen.Code) {
	w := s.Node.Window
	spec := jen.Qual(statePath, "SessionSpec").Values(jen.Id("Retention").Op(":").Lit(int(w.Retention().Milliseconds()))) // gap + grace, ms
	return jen.Op("*").Qual(statePath, "SessionStore").Types(typ(s.Value)),
		jen.Qual(statePath, "NewSessionStore").Types(typ(s.Value)).Call(append(codec, spec, jen.Id(t.l("ctx")).Dot("CacheEntries"))...)
}

// sessionFields are the task fields of the session aggregations: the sessions
// a record merges, reused for every record.
func (t *taskGen) sessionFields() []jen.Code {
	var out []jen.Code
	for _, n := range t.st.Nodes {
		if n.Window != nil && n.Window.Kind == ir.SessionWindow {
			out = append(out, jen.Id(fmt.Sprintf("sessions%d", n.ID)).Index().Index(jen.Lit(2)).Int64().Commentf("the sessions a record of %s merges, [start, end]", n))
		}
	}
	return out
}

// sessionWindowed emits a session-windowed aggregation of the record in k, v.
func (t *taskGen) sessionWindowed(n *ir.Node, k, v string, m mode) []jen.Code {
	w := n.Window
	s := n.Store
	field := t.stores[s]
	gap, grace := int(w.Gap.Milliseconds()), int(w.Grace.Milliseconds())
	id := func(base string) string { return t.l(fmt.Sprintf("%s%d", base, n.ID)) }
	ts, start, end, latest, agg, found := id("ts"), id("start"), id("end"), id("latest"), id("agg"), id("found")
	merged := jen.Id(t.l("t")).Dot(fmt.Sprintf("sessions%d", n.ID))
	out := []jen.Code{
		jen.Commentf("%s over session windows (gap %v): the record joins the sessions it reaches.", n, w.Gap),
		jen.Id(ts).Op(":=").Id(t.l("r")).Dot("Timestamp"),
	}
	out = append(out, t.advance(n, jen.Id(ts))...)
	out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Expire").Call(t.clock(n)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("expire store "+s.Name), jen.Id(t.l("err")))),
	))
	enc, key := t.encode(s.KeySerde, k, "storeKey", id("sk"), "encode key for store "+s.Name)
	out = append(out, enc...)
	out = append(out,
		jen.List(jen.Id(start), jen.Id(end), jen.Id(latest)).Op(":=").List(jen.Id(ts), jen.Id(ts), jen.Id(ts)),
		jen.Var().Id(agg).Add(typ(n.Value)),
	)
	if n.Op != ir.OpCount { // a count needs no "found": it starts at 0
		out = append(out, jen.Id(found).Op(":=").False().Comment("whether agg holds a merged session's aggregate"))
	}
	out = append(out, merged.Clone().Op("=").Add(merged.Clone()).Index(jen.Empty(), jen.Lit(0)))
	sv, sts, ss, se := t.l("sv"), t.l("sts"), t.l("s"), t.l("e")
	merge := []jen.Code{
		merged.Clone().Op("=").Append(merged.Clone(), jen.Index(jen.Lit(2)).Int64().Values(jen.Id(ss), jen.Id(se))),
		jen.List(jen.Id(start), jen.Id(end), jen.Id(latest)).Op("=").List(jen.Min(jen.Id(start), jen.Id(ss)), jen.Max(jen.Id(end), jen.Id(se)), jen.Max(jen.Id(latest), jen.Id(sts))),
	}
	merge = append(merge, t.mergeSession(n, k, agg, found, sv)...)
	out = append(out,
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("FindSessions").Call(key, jen.Id(ts).Op("-").Lit(gap), jen.Id(ts).Op("+").Lit(gap),
			jen.Func().Params(jen.List(jen.Id(ss), jen.Id(se)).Int64(), jen.Id(sv).Add(typ(n.Value)), jen.Id(sts).Int64()).Error().Block(append(merge, jen.Return(jen.Nil()))...),
		), jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("read store "+s.Name), jen.Id(t.l("err"))))),
	)
	gone := t.l("se")
	retire := []jen.Code{
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Remove").Call(key, jen.Id(gone).Index(jen.Lit(0)), jen.Id(gone).Index(jen.Lit(1))), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
		),
	}
	if del := t.tombstones(n, k, gone); len(del) > 0 {
		retire = append(retire, jen.If(jen.Id(start).Op("!=").Id(ts).Op("||").Id(end).Op("!=").Id(ts)).Block(del...).
			Comment("Kafka Streams forwards a delete unless the new session is [ts, ts]"))
	}
	open := []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(gone)).Op(":=").Range().Add(merged.Clone())).Block(retire...)}
	open = append(open, t.fold(n, k, v, jen.Id(agg), jen.Id(found))...)
	wk, wts := id("w"), id("wts")
	open = append(open,
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Put").Call(key, jen.Id(start), jen.Id(end), jen.Id(agg), jen.Id(latest)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
		),
		jen.Id(wk).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
			jen.Id("Key").Op(":").Id(k),
			jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(start)).Dot("UTC").Call(),
			jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(end)).Dot("UTC").Call(),
		),
		jen.Id(wts).Op(":=").Id(latest).Comment("the latest time that contributed: the result's"),
	)
	outer := t.resultTime
	t.resultTime = wts
	open = append(open, t.children(n, 0, wk, agg, m)...)
	t.resultTime = outer
	late := append([]jen.Code{jen.Comment("late: the session closed (its end + gap + grace passed)")}, t.lateRecord(n)...)
	return append(out, jen.If(jen.Id(end).Op("+").Lit(gap+grace).Op("<").Add(t.clock(n))).Block(late...).Else().Block(open...))
}

// mergeSession emits how a found session's aggregate sv joins agg.
func (t *taskGen) mergeSession(n *ir.Node, k, agg, found, sv string) []jen.Code {
	switch n.Op {
	case ir.OpCount:
		return []jen.Code{jen.Id(agg).Op("+=").Id(sv)}
	case ir.OpReduce:
		return []jen.Code{
			jen.If(jen.Id(found)).Block(jen.Id(agg).Op("=").Add(t.call(n.Fns[0], jen.Id(agg), jen.Id(sv)))).Else().Block(jen.Id(agg).Op("=").Id(sv)),
			jen.Id(found).Op("=").True(),
		}
	}
	return []jen.Code{
		jen.If(jen.Op("!").Id(found)).Block(jen.Id(agg).Op("=").Add(t.call(n.Fns[0])), jen.Id(found).Op("=").True()),
		jen.Id(agg).Op("=").Add(t.call(n.Fns[2], jen.Id(k), jen.Id(agg), jen.Id(sv))),
	}
}

// tombstones emits the delete of the session [se[0], se[1]] of key k along the
// chain after session aggregation n: through ToStream to each sink (a nil
// value, timestamp the session's end) and each Suppress (its pending result is
// dropped). It stops at any other step: those take typed values.
func (t *taskGen) tombstones(n *ir.Node, k, se string) []jen.Code {
	/*
		wd5 := streams.Windowed[string]{Key: k0, Start: time.UnixMilli(se[0]).UTC(), End: time.UnixMilli(se[1]).UTC()}
		key7, err := serde.Encode(t.keyBuf[:0], wd5) ...
		t.out.Emit(1, key7, nil, se[1]) // a tombstone, to topic "sessions"
	*/
	wd := t.l(fmt.Sprintf("wd%d", n.ID))
	var out []jen.Code
	var walk func(c *ir.Node)
	walk = func(c *ir.Node) {
		switch c.Op {
		case ir.OpToStream:
			for _, d := range t.consumers(c, 0) {
				walk(d)
			}
		case ir.OpSink:
			topic := c.Topics[0]
			id := t.topicIDs[topicKey{topic.Name, topic.Kind != ir.ExternalTopic}]
			enc, kb := t.encode(c.KeySerde, wd, "keyBuf", t.l(fmt.Sprintf("dk%d", c.ID)), "encode key for "+topic.FullName(t.graph.DefaultAppID))
			out = append(out, enc...)
			out = append(out, jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), kb, jen.Nil(), jen.Id(se).Index(jen.Lit(1))).Comment("a tombstone, to "+topicRef(topic)))
		case ir.OpSuppress:
			s := c.Store
			enc, kb := t.encode(s.KeySerde, wd, "keyBuf", t.l(fmt.Sprintf("dk%d", c.ID)), "encode key for store "+s.Name)
			out = append(out, enc...)
			out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(t.stores[s]).Dot("Remove").Call(kb), jen.Id(t.l("err")).Op("!=").Nil()).Block(
				jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
			).Comment("a merged-away session is never emitted"))
		}
	}
	for _, c := range t.consumers(n, 0) {
		walk(c)
	}
	if len(out) == 0 {
		return nil
	}
	return append([]jen.Code{jen.Id(wd).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
		jen.Id("Key").Op(":").Id(k),
		jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(se).Index(jen.Lit(0))).Dot("UTC").Call(),
		jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(se).Index(jen.Lit(1))).Dot("UTC").Call(),
	)}, out...)
}
