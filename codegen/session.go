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
// record is late when its merged session ends more than gap + grace before stream
// time: it is then counted, sent to the late topic if any, and not added.
//
// Unlike Kafka Streams, the sessions merged away are not forwarded as tombstones
// (the chain after an aggregation carries typed values, which have no "deleted").
//
//	t.sessions5 = t.sessions5[:0]
//	t.store.FindSessions(key, ts-gap, ts+gap, func(s, e int64, v V, vts int64) error {
//		remember [s, e]; widen [start, end]; merge v into agg
//	})
//	if end+gap+grace < t.streamTime { late }
//	else { remove the merged sessions; fold the record; Put(key, start, end, agg, latest) ... }

// sessionStoreField is the field type and constructor of a session store.
func (t *taskGen) sessionStoreField(s *ir.Store, codec []jen.Code) (jen.Code, jen.Code) {
	w := s.Node.Window
	// A session closes when stream time passes end + gap + grace (Kafka Streams'
	// rule, strictly), and SessionStore expires sessions with end + Retention <=
	// stream time, hence the extra millisecond: a session is kept while it can grow.
	spec := jen.Qual(statePath, "SessionSpec").Values(jen.Id("Retention").Op(":").Lit(int(w.Retention().Milliseconds()) + 1)) // gap + grace + 1, ms
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
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Expire").Call(t.clock()), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("expire store "+s.Name), jen.Id(t.l("err")))),
		),
	}
	enc, key := t.encode(s.KeySerde, k, "storeKey", id("sk"), "encode key for store "+s.Name)
	out = append(out, enc...)
	out = append(out,
		jen.Id(ts).Op(":=").Id(t.l("r")).Dot("Timestamp"),
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
	open := []jen.Code{
		jen.For(jen.List(jen.Id("_"), jen.Id(t.l("se"))).Op(":=").Range().Add(merged.Clone())).Block(
			jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Remove").Call(key, jen.Id(t.l("se")).Index(jen.Lit(0)), jen.Id(t.l("se")).Index(jen.Lit(1))), jen.Id(t.l("err")).Op("!=").Nil()).Block(
				jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
			),
		),
	}
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
	return append(out, jen.If(jen.Id(end).Op("+").Lit(gap+grace).Op("<").Add(t.clock())).Block(late...).Else().Block(open...))
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
