package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// This file emits the Process steps of a task. Each has, in the task:
//
//	proc<ID>  runtime.ProcessorContext[KOut, VOut]  what the user's functions forward into
//	rec<ID>   runtime.Record                        the record the forwarded ones are sent on as
//	store<Name> per store, *runtime.ProcessorStore[K, V]; and *runtime.Timers for its timer store
//
// and two methods: forward<ID> runs the rest of the chain over what a call
// forwarded, and fire<ID> (with timers) runs the timers and punctuators that are
// due. The record loops call fire<ID> before each record and after the batch
// when stream time has reached the earliest timer; Punctuate (runtime.Punctuator)
// calls it with wall-clock time.
//
//	t.proc3.BeginRecord(r.Timestamp, t.streamTime, tk3)
//	if err := dedup(&t.proc3, k2, v2, t.storeSeen); err != nil {
//		return r.Fail("Process dedup", err)
//	}
//	t.rec3 = *r
//	if err := t.forward3(&t.rec3); err != nil {
//		return err
//	}

// procNames are the task's names for one Process node.
type procNames struct{ ctx, rec, forward, fire string }

// processors are the sub-topology's Process nodes.
func (t *taskGen) processors() []*ir.Node {
	var out []*ir.Node
	for _, n := range t.st.Nodes {
		if n.Op == ir.OpProcess {
			out = append(out, n)
		}
	}
	return out
}

// procStore returns the field type and constructor of a store of a Process
// node; ok is false for any other store (a typed cache).
func (t *taskGen) procStore(s *ir.Store, i int) (field, init jen.Code, ok bool) {
	if s.Node.Op != ir.OpProcess {
		return nil, nil, false
	}
	backend := jen.Id(t.l("ctx")).Dot("Stores").Index(jen.Lit(i))
	if s == s.Node.Proc.Timers {
		var ps []jen.Code
		for _, p := range s.Node.Proc.Punctuators {
			ps = append(ps, jen.Qual(runtimePath, "Punctuation").Values(jen.Id("Domain").Op(":").Add(domain(p.WallClock)), jen.Id("Interval").Op(":").Lit(int(p.IntervalMs))))
		}
		return jen.Op("*").Qual(runtimePath, "Timers"), jen.Qual(runtimePath, "NewTimers").Call(append([]jen.Code{backend}, ps...)...), true
	}
	types := []jen.Code{typ(s.Key), typ(s.Value)}
	return jen.Op("*").Qual(runtimePath, "ProcessorStore").Types(types...),
		jen.Qual(runtimePath, "NewProcessorStore").Types(types...).Call(backend, t.serde(s.KeySerde).Dot("Encode"), t.serde(s.KeySerde).Dot("Decode"),
			t.serde(s.ValueSerde).Dot("Encode"), t.serde(s.ValueSerde).Dot("Decode"), jen.Id(t.l("ctx")).Dot("CacheEntries")), true
}

func domain(wallClock bool) jen.Code {
	if wallClock {
		return jen.Qual(runtimePath, "ProcessingTime")
	}
	return jen.Qual(runtimePath, "EventTime")
}

// procFields names the Process nodes' fields and methods, and returns the
// fields and the statements that tie each context to its timers.
func (t *taskGen) procFields() (fields, init []jen.Code) {
	t.procs = map[*ir.Node]procNames{}
	for _, n := range t.processors() {
		id := fmt.Sprint(n.ID)
		names := procNames{"proc" + id, "rec" + id, "forward" + id, "fire" + id}
		t.procs[n] = names
		ctxType := jen.Qual(runtimePath, "ProcessorContext").Types(typ(n.Key), typ(n.Value))
		fields = append(fields,
			jen.Id(names.ctx).Add(ctxType).Commentf("what %s forwards", n),
			jen.Id(names.rec).Qual(runtimePath, "Record").Commentf("the record %s's output is sent on as", n),
		)
		timers := jen.Nil() // without OnTimer, registering a timer is an error
		if n.Proc.OnTimer != nil {
			timers = jen.Id(t.l("t")).Dot(t.stores[n.Proc.Timers])
		}
		init = append(init, jen.Id(t.l("t")).Dot(names.ctx).Op("=").Qual(runtimePath, "NewProcessorContext").Types(typ(n.Key), typ(n.Value)).Call(timers))
	}
	return fields, init
}

// storeArgs are the store fields a Process node's functions take, in order.
func (t *taskGen) storeArgs(n *ir.Node) []jen.Code {
	var out []jen.Code
	for _, s := range n.Proc.Stores {
		out = append(out, jen.Id(t.l("t")).Dot(t.stores[s]))
	}
	return out
}

// callProc emits one call of a processor, timer or punctuator function f with
// the node's context first, then args, then the stores, and sends on what it
// forwarded as record rec (set first by setRec).
func (t *taskGen) callProc(n *ir.Node, f *ir.Func, beginMethod string, fail jen.Code, begin, setRec jen.Code, args ...jen.Code) []jen.Code {
	names := t.procs[n]
	ctx := jen.Op("&").Id(t.l("t")).Dot(names.ctx)
	call := t.call(f, append(append([]jen.Code{ctx}, args...), t.storeArgs(n)...)...)
	out := []jen.Code{
		jen.Id(t.l("t")).Dot(names.ctx).Dot(beginMethod).Add(begin),
		jen.If(jen.Id(t.l("err")).Op(":=").Add(call), jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(fail)),
	}
	if len(t.consumers(n, 0)) == 0 {
		return append(out, jen.Comment("nothing reads what it forwards: the processor only keeps its stores"))
	}
	return append(out,
		setRec,
		jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(names.forward).Call(jen.Op("&").Id(t.l("t")).Dot(names.rec)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
			jen.Return(jen.Id(t.l("err")))),
	)
}

// process emits a Process node on the record path, and queues its methods.
func (t *taskGen) process(n *ir.Node, k, v string) []jen.Code {
	names := t.procs[n]
	if len(t.consumers(n, 0)) > 0 {
		t.methods = append(t.methods, t.forwardMethod(n))
	}
	var key jen.Code = jen.Nil()
	var out []jen.Code
	if n.Proc.Timers != nil {
		t.methods = append(t.methods, t.fireMethod(n))
	}
	if n.Proc.OnTimer != nil {
		var enc []jen.Code
		enc, key = t.encode(n.Proc.KeySerde, k, "timerKey", t.l(fmt.Sprintf("tk%d", n.ID)), "encode key for timers of "+n.Proc.Timers.Name)
		out = append(out, enc...)
	}
	r := jen.Id(t.l("r"))
	fail := r.Clone().Dot("Fail").Call(jen.Lit("Process "+n.Fns[0].Display), jen.Id(t.l("err")))
	begin := jen.Call(t.timestamp(), jen.Id(t.l("t")).Dot("streamTime"), key)
	var setRec jen.Code = jen.Id(t.l("t")).Dot(names.rec).Op("=").Op("*").Add(r.Clone())
	if t.resultTime != "" {
		// On a window's result the record's time is the window's, not r's.
		setRec = jen.Block(setRec, jen.Id(t.l("t")).Dot(names.rec).Dot("Timestamp").Op("=").Id(t.resultTime))
	}
	out = append(out, jen.Commentf("%s at %s: %s", n, posRef(n), t.fnRef(n.Fns[0])))
	return append(out, t.callProc(n, n.Fns[0], "BeginRecord", fail, begin, setRec, jen.Id(k), jen.Id(v))...)
}

// forwardMethod runs the chain after n over the records n forwarded, each sent
// on with its own timestamp.
func (t *taskGen) forwardMethod(n *ir.Node) []jen.Code {
	names := t.procs[n]
	k, v := t.vars(n)
	fw := t.l("fw")
	// Forwarded records carry their own time in r, even when n runs on a
	// window's result (whose time variable is out of scope here).
	outer := t.resultTime
	t.resultTime = ""
	defer func() { t.resultTime = outer }()
	body := append([]jen.Code{
		jen.Id(t.l("r")).Dot("Timestamp").Op("=").Id(fw).Dot("Timestamp"),
		jen.List(jen.Id(k), jen.Id(v)).Op(":=").List(jen.Id(fw).Dot("Key"), jen.Id(fw).Dot("Value")),
	}, t.children(n, 0, k, v, modeLoop)...)
	return []jen.Code{
		jen.Commentf("%s runs the chain after %s (at %s) for each record it forwarded.", names.forward, n, posRef(n)),
		jen.Func().Params(jen.Id(t.l("t")).Op("*").Id(t.typ)).Id(names.forward).Params(jen.Id(t.l("r")).Op("*").Qual(runtimePath, "Record")).Error().Block(
			jen.For(jen.List(jen.Id("_"), jen.Id(fw)).Op(":=").Range().Id(t.l("t")).Dot(names.ctx).Dot("Forwarded").Call()).Block(body...),
			jen.Return(jen.Nil()),
		),
	}
}

// fireMethod runs n's timers that are due on clock d at now, in time order,
// then its punctuators of that clock.
func (t *taskGen) fireMethod(n *ir.Node) []jen.Code {
	names := t.procs[n]
	timers := jen.Id(t.l("t")).Dot(t.stores[n.Proc.Timers])
	d, now, key, ts := jen.Id(t.l("d")), jen.Id(t.l("now")), jen.Id(t.l("key")), jen.Id(t.l("ts"))
	what := fmt.Sprintf("%s at %s", n, posRef(n))
	setRec := jen.Id(t.l("t")).Dot(names.rec).Op("=").Qual(runtimePath, "Record").Values(jen.Dict{
		jen.Id("Topic"): jen.Lit("(timers of " + n.String() + ")"), jen.Id("Partition"): jen.Lit(-1), jen.Id("Offset"): jen.Lit(-1), jen.Id("Timestamp"): ts,
	})
	errf := func(msg string) jen.Code {
		return jen.Qual("fmt", "Errorf").Call(jen.Lit(what+": "+msg+" at %d: %w"), ts, jen.Id(t.l("err")))
	}
	body := []jen.Code{
		jen.If(jen.Id(t.l("err")).Op(":=").Add(timers.Clone()).Dot("Load").Call(), jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("err")))),
	}
	if f := n.Proc.OnTimer; f != nil {
		tk := jen.Id(t.l("tk"))
		timer := jen.Qual(runtimePath, "Timer").Types(typ(n.Inputs[0].Node.Key)).Values(jen.Dict{
			jen.Id("Key"): tk, jen.Id("Time"): jen.Qual("time", "UnixMilli").Call(ts), jen.Id("Domain"): d,
		})
		loop := []jen.Code{
			jen.List(key, ts, jen.Id(t.l("ok"))).Op(":=").Add(timers.Clone()).Dot("PopDue").Call(d, now),
			jen.If(jen.Op("!").Id(t.l("ok"))).Block(jen.Break()),
			jen.List(tk, jen.Id(t.l("err"))).Op(":=").Add(t.serde(n.Proc.KeySerde)).Dot("Decode").Call(key),
			jen.If(jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(errf("decode the key of a timer"))),
		}
		begin := jen.Call(ts, jen.Id(t.l("t")).Dot("streamTime"), key)
		loop = append(loop, t.callProc(n, f, "Begin", errf("timer "+f.Display), begin, setRec, timer)...)
		body = append(body, jen.For().Block(loop...))
	}
	for i, p := range n.Proc.Punctuators {
		begin := jen.Call(ts, jen.Id(t.l("t")).Dot("streamTime"), jen.Nil())
		body = append(body, jen.If(jen.List(ts, jen.Id(t.l("ok"))).Op(":=").Add(timers.Clone()).Dot("Punctuate").Call(jen.Lit(i), d, now), jen.Id(t.l("ok"))).Block(
			t.callProc(n, p.Fn, "Begin", errf("punctuator "+p.Fn.Display), begin, setRec)...))
	}
	body = append(body, jen.Return(jen.Nil()))
	return []jen.Code{
		jen.Commentf("%s runs the timers of %s that are due at now on clock d, in time order, then its punctuators on that clock.", names.fire, what),
		jen.Func().Params(jen.Id(t.l("t")).Op("*").Id(t.typ)).Id(names.fire).Params(d.Clone().Qual(runtimePath, "TimeDomain"), now.Clone().Int64()).Error().Block(body...),
	}
}

// fireDue emits, for a record loop, the firing of every processor's timers that
// stream time has reached.
func (t *taskGen) fireDue() []jen.Code {
	return t.fireAll(jen.Qual(runtimePath, "EventTime"), jen.Id(t.l("t")).Dot("streamTime"))
}

func (t *taskGen) fireAll(d, now jen.Code) []jen.Code {
	var out []jen.Code
	for _, n := range t.processors() {
		if n.Proc.Timers == nil {
			continue
		}
		out = append(out, jen.If(jen.Id(t.l("t")).Dot(t.stores[n.Proc.Timers]).Dot("Due").Call(d, now)).Block(
			jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(t.procs[n].fire).Call(d, now), jen.Id(t.l("err")).Op("!=").Nil()).Block(jen.Return(jen.Id(t.l("err")))),
		))
	}
	return out
}

// punctuateMethod is runtime.Punctuator's method, for a task with timers.
func (t *taskGen) punctuateMethod() []jen.Code {
	now := jen.Id(t.l("now"))
	fire := t.fireAll(jen.Qual(runtimePath, "ProcessingTime"), now)
	if len(fire) == 0 {
		return nil
	}
	return []jen.Code{
		jen.Comment("Punctuate implements runtime.Punctuator: it runs the timers and punctuators on wall-clock time."),
		jen.Func().Params(jen.Id(t.l("t")).Op("*").Id(t.typ)).Id("Punctuate").Params(now.Clone().Int64()).Error().Block(append(fire, jen.Return(jen.Nil()))...),
		jen.Line(),
	}
}
