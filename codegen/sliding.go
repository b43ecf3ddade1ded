package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Sliding windows, as Kafka Streams' KStreamSlidingWindowAggregate: the store
// (state.WindowStore, retention 2d + grace) works out which windows a record at
// ts updates or creates (state.WindowStore.Slide, whose doc says how), and the
// generated code folds the record into each and passes each update on, in Kafka
// Streams' order. A record whose own right window has closed
// (ts + 1 + d <= stream time - grace) is late; the stream time is the step's
// own (optime.go).
//
//	t.streamTime5 = max(t.streamTime5, ts5)
//	t.store.Expire(t.streamTime5)
//	if ts5+1+d <= t.streamTime5-grace { late }
//	else {
//		t.slide5, err = t.store.Slide(key, ts5, d, t.streamTime5-grace, t.slide5)
//		for _, st5 := range t.slide5 {
//			agg5, wts5 := st5.Agg, st5.TS
//			if !st5.Copy { fold the record into agg5; wts5 = max(wts5, ts5) }
//			t.store.Put(key, st5.Start, agg5, wts5)
//			w5 := streams.Windowed[K]{Key: k, Start: st5.Start, End: st5.Start + d}
//			... what follows the aggregation, with w5, agg5 and wts5 ...
//		}
//	}

// slidingFields are the task fields of the sliding-window aggregations: the
// steps of a record, reused for every record.
func (t *taskGen) slidingFields() []jen.Code {
	var out []jen.Code
	for _, n := range t.st.Nodes {
		if n.Window != nil && n.Window.Kind == ir.SlidingWindow {
			out = append(out, jen.Id(fmt.Sprintf("slide%d", n.ID)).Index().Qual(statePath, "SlidingStep").Types(typ(n.Value)).Commentf("the windows a record of %s updates or creates", n))
		}
	}
	return out
}

// slidingWindowed emits a sliding-windowed aggregation of the record in k, v.
func (t *taskGen) slidingWindowed(n *ir.Node, k, v string) []jen.Code {
	w := n.Window
	s := n.Store
	field := t.stores[s]
	d, grace := int(w.Size.Milliseconds()), int(w.Grace.Milliseconds())
	id := func(base string) string { return t.l(fmt.Sprintf("%s%d", base, n.ID)) }
	ts, st, agg, found, wts, wk := id("ts"), id("st"), id("agg"), id("found"), id("wts"), id("w")
	steps := jen.Id(t.l("t")).Dot(fmt.Sprintf("slide%d", n.ID))
	out := []jen.Code{
		jen.Commentf("%s over sliding windows (time difference %v): the windows the record updates or creates.", n, w.Size),
		jen.Id(ts).Op(":=").Id(t.l("r")).Dot("Timestamp"),
	}
	out = append(out, t.advance(n, jen.Id(ts))...)
	out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Expire").Call(t.clock(n)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("expire store "+s.Name), jen.Id(t.l("err")))),
	))
	enc, key := t.encode(s.KeySerde, k, "storeKey", id("sk"), "encode key for store "+s.Name)
	out = append(out, enc...)

	body := []jen.Code{jen.Id(agg).Op(":=").Id(st).Dot("Agg")}
	if n.Op != ir.OpCount {
		body = append(body, jen.Id(found).Op(":=").Id(st).Dot("Found"))
	}
	body = append(body, jen.Id(wts).Op(":=").Id(st).Dot("TS"))
	fold := append(t.fold(n, k, v, jen.Id(agg), jen.Id(found)), jen.Id(wts).Op("=").Max(jen.Id(wts), jen.Id(ts)))
	body = append(body,
		jen.If(jen.Op("!").Id(st).Dot("Copy")).Block(fold...).Comment("a copy is the record's right window, without it"),
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Put").Call(key, jen.Id(st).Dot("Start"), jen.Id(agg), jen.Id(wts)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("write store "+s.Name), jen.Id(t.l("err")))),
		),
		jen.Id(wk).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
			jen.Id("Key").Op(":").Id(k),
			jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(st).Dot("Start")).Dot("UTC").Call(),
			jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(st).Dot("Start").Op("+").Lit(d)).Dot("UTC").Call(),
		),
	)
	outer := t.resultTime
	t.resultTime = wts
	body = append(body, t.children(n, 0, wk, agg, modeLoop)...)
	t.resultTime = outer

	closeTime := t.clock(n).Op("-").Lit(grace)
	if grace == 0 {
		closeTime = t.clock(n)
	}
	late := append([]jen.Code{jen.Comment("late: even its right window has closed")}, t.lateRecord(n)...)
	open := []jen.Code{
		jen.Var().Id(t.l("err")).Error(),
		jen.List(steps.Clone(), jen.Id(t.l("err"))).Op("=").Id(t.l("t")).Dot(field).Dot("Slide").Call(key, jen.Id(ts), jen.Lit(d), closeTime.Clone(), steps.Clone()),
		jen.If(jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("read store "+s.Name), jen.Id(t.l("err"))))),
		jen.For(jen.List(jen.Id("_"), jen.Id(st)).Op(":=").Range().Add(steps.Clone())).Block(body...),
	}
	return append(out, jen.If(jen.Id(ts).Op("+").Lit(1+d).Op("<=").Add(closeTime)).Block(late...).Else().Block(open...))
}
