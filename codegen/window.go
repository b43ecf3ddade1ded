package codegen

import (
	"fmt"
	"go/scanner"
	"go/token"
	"go/types"

	"github.com/dave/jennifer/jen"

	"github.com/gofka/streams/ir"
)

// Windowed aggregations over tumbling and hopping windows. For each record the
// generated code walks the windows the record falls in, oldest first, and for each
// window that is still open (end + grace > the step's stream time, optime.go)
// reads, updates and writes
// the aggregate of (key, window start), then passes the update on with the key
// streams.Windowed[K]. A record that falls in no open window is late: it is
// counted (runtime.LateCounter) and, with LateRecordsTo, written unchanged to the
// late topic. As in Kafka Streams' KStreamWindowAggregate, a record partly late
// (a hopping window closed, a later one open) updates only the open windows.
//
// The store is a state.WindowStore (one value per key and window start, with the
// latest timestamp that contributed, which is the result record's timestamp);
// windows that can no longer change are expired as stream time advances.
//
//	t.streamTime5 = max(t.streamTime5, ts5)                  // the step's own time
//	t.store.Expire(t.streamTime5)
//	start5 := max(0, ts5-size+advance) / advance * advance   // the oldest window
//	for ; start5 <= ts5; start5 += advance {
//		if start5+size+grace <= t.streamTime5 { continue }     // closed
//		... read-modify-write of (key, start5), timestamp max(its, ts5) ...
//		w5 := streams.Windowed[K]{Key: k, Start: ..., End: ...}
//		... what follows the aggregation, with w5, agg5 and the window's timestamp ...
//	}

// hasWindows reports whether a sub-topology keeps stream time for windows.
func hasWindows(st *ir.SubTopology) bool {
	for _, n := range st.Nodes {
		if n.Window != nil {
			return true
		}
	}
	return false
}

// windowed emits a tumbling or hopping windowed aggregation of the record in k, v
// and what follows it, once per open window.
func (t *taskGen) windowed(n *ir.Node, k, v string, m mode) []jen.Code {
	w := n.Window
	switch w.Kind {
	case ir.CountWindow:
		return t.countWindowed(n, k, v, m)
	case ir.SessionWindow:
		return t.sessionWindowed(n, k, v, m)
	case ir.SlidingWindow:
		return t.slidingWindowed(n, k, v)
	}
	size, advance, grace := int(w.Size.Milliseconds()), int(w.Advance.Milliseconds()), int(w.Grace.Milliseconds())
	ts, start, open := t.l(fmt.Sprintf("ts%d", n.ID)), t.l(fmt.Sprintf("start%d", n.ID)), t.l(fmt.Sprintf("open%d", n.ID))
	s := n.Store
	field := t.stores[s]

	out := []jen.Code{
		jen.Commentf("%s over %s windows of %s: every window the record falls in, oldest first.", n, w.Kind, w.Size),
		jen.Id(ts).Op(":=").Id(t.l("r")).Dot("Timestamp"),
	}
	out = append(out, t.advance(n, jen.Id(ts))...)
	out = append(out, jen.If(jen.Id(t.l("err")).Op(":=").Id(t.l("t")).Dot(field).Dot("Expire").Call(t.clock(n)), jen.Id(t.l("err")).Op("!=").Nil()).Block(
		jen.Return(jen.Id(t.l("r")).Dot("Fail").Call(jen.Lit("expire store "+s.Name), jen.Id(t.l("err")))),
	))
	enc, key := t.encode(s.KeySerde, k, "storeKey", t.l(fmt.Sprintf("sk%d", n.ID)), "encode key for store "+s.Name)
	out = append(out, enc...)
	out = append(out,
		jen.Id(open).Op(":=").False().Comment("whether some window was still open"),
		jen.For(
			jen.Id(start).Op(":=").Max(jen.Lit(0), jen.Id(ts).Op("-").Lit(size).Op("+").Lit(advance)).Op("/").Lit(advance).Op("*").Lit(advance),
			jen.Id(start).Op("<=").Id(ts),
			jen.Id(start).Op("+=").Lit(advance),
		).Block(t.windowBody(n, k, v, key, start, size, grace)...),
	)
	return append(out, t.late(n, open)...)
}

// windowBody is one window's step: skip it if closed, else update its aggregate
// and run what follows with the window's key and timestamp.
func (t *taskGen) windowBody(n *ir.Node, k, v string, key jen.Code, start string, size, grace int) []jen.Code {
	wk := t.l(fmt.Sprintf("w%d", n.ID))
	body := []jen.Code{
		jen.If(jen.Id(start).Op("+").Lit(size + grace).Op("<=").Add(t.clock(n))).Block(
			jen.Continue().Comment("closed: its end plus grace has passed"),
		),
		jen.Id(t.l(fmt.Sprintf("open%d", n.ID))).Op("=").True(),
	}
	body = append(body, t.update(n, k, v, key, jen.Id(start))...)
	wts := t.l(fmt.Sprintf("wts%d", n.ID))
	body = append(body, jen.Id(wts).Op(":=").Id(t.l(fmt.Sprintf("slot%d", n.ID))).Dot("Timestamp").Call().Comment("the latest time that contributed: the result's"))
	outer := t.resultTime
	t.resultTime = wts
	defer func() { t.resultTime = outer }()
	if t.windows == nil {
		t.windows = map[string][2]string{}
	}
	t.windows[wk] = [2]string{k, start}
	defer delete(t.windows, wk)
	rest := t.children(n, 0, wk, t.l(fmt.Sprintf("agg%d", n.ID)), modeLoop)
	if !reads(rest, wk) {
		// What follows only encodes the windowed key (a sink, say), from k and
		// start: building its time.Time fields would be wasted.
		return append(body, rest...)
	}
	body = append(body, jen.Id(wk).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
		jen.Id("Key").Op(":").Id(k),
		jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(start)).Dot("UTC").Call(),
		jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(start).Op("+").Lit(size)).Dot("UTC").Call(),
	))
	return append(body, rest...)
}

// reads reports whether code names the identifier id (comments aside).
func reads(code []jen.Code, id string) bool {
	src := []byte(fmt.Sprintf("%#v", jen.Block(code...)))
	var sc scanner.Scanner
	sc.Init(token.NewFileSet().AddFile("", -1, len(src)), src, nil, 0)
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return false
		}
		if tok == token.IDENT && lit == id {
			return true
		}
	}
}

// late emits what happens to a record that fell in no open window.
func (t *taskGen) late(n *ir.Node, open string) []jen.Code {
	stmts := append([]jen.Code{jen.Comment("late: every window it falls in has closed")}, t.lateRecord(n)...)
	return []jen.Code{jen.If(jen.Op("!").Id(open)).Block(stmts...)}
}

// lateRecord counts a late record and, with LateRecordsTo, writes it unchanged to
// the late topic.
func (t *taskGen) lateRecord(n *ir.Node) []jen.Code {
	stmts := []jen.Code{jen.Id(t.l("t")).Dot("late").Dot("Inc").Call()}
	if len(n.Topics) > 0 {
		topic := n.Topics[0]
		id := t.topicIDs[topicKey{topic.Name, false}]
		stmts = append(stmts, jen.Id(t.l("t")).Dot("out").Dot("Emit").Call(jen.Lit(id), jen.Id(t.l("r")).Dot("Key"), jen.Id(t.l("r")).Dot("Value"), jen.Id(t.l("r")).Dot("Timestamp")).
			Commentf("unchanged, to the late records' %s", topicRef(topic)))
	}
	return stmts
}

// windowedSerde is the identity and the value of a Windowed[K] key serde: Kafka
// Streams' windowed layout around the plain key's serde, e.g.
//
//	streams.TimeWindowedSerde[string, streams.StringSerde[string]]{Inner: gofkaSerdeString, Size: 60000 * time.Millisecond}
func windowedSerde(g *gen, s *ir.Serde) (string, jen.Code) {
	inner := s.Inner
	var innerType jen.Code
	if inner.Builtin != "" {
		innerType = jen.Qual(streamsPath, inner.Builtin).Types(typ(inner.Type))
	} else {
		innerType = typ(inner.SerdeType)
	}
	fields := jen.Dict{jen.Id("Inner"): g.serde(inner)}
	if s.Builtin == "TimeWindowedSerde" {
		fields[jen.Id("Size")] = jen.Lit(int(s.WindowSize.Milliseconds())).Op("*").Qual("time", "Millisecond")
	}
	id := fmt.Sprintf("%s[%s] of %s, %d", s.Builtin, types.TypeString(s.Type, nil), g.serdeVar(inner), s.WindowSize)
	return id, jen.Qual(streamsPath, s.Builtin).Types(typ(inner.Type), innerType).Values(fields)
}

// storeField is the type of a store's task field and the expression that makes
// it: a typed Cache for a key-value store (a TimestampedCache for one of
// ir.Store.Timestamped), a WindowStore for a windowed aggregation's store.
func (t *taskGen) storeField(i int, s *ir.Store) (jen.Code, jen.Code) {
	vs := s.ValueSerde
	backend := jen.Id(t.l("ctx")).Dot("Stores").Index(jen.Lit(i))
	codec := []jen.Code{backend, t.serde(vs).Dot("Encode"), t.serde(vs).Dot("Decode")}
	if s.Node.Op == ir.OpJoin {
		return t.joinStoreField(i, s)
	}
	if s.Node.Op == ir.OpSuppress {
		return jen.Op("*").Qual(statePath, "SuppressBuffer"), jen.Qual(statePath, "NewSuppressBuffer").Call(backend)
	}
	if s.Node.Op == ir.OpFKRespond {
		return jen.Op("*").Qual(statePath, "SubscriptionStore"), jen.Qual(statePath, "NewSubscriptionStore").Call(backend)
	}
	if w := s.Node.Window; w != nil && w.Kind == ir.SessionWindow {
		return t.sessionStoreField(s, codec)
	}
	if w := s.Node.Window; w != nil && w.Timed() {
		spec := jen.Qual(statePath, "WindowSpec").Values(
			jen.Id("Size").Op(":").Lit(int(w.Size.Milliseconds())),
			jen.Id("Retention").Op(":").Lit(int(w.Retention().Milliseconds())), // size + grace, ms
		)
		return jen.Op("*").Qual(statePath, "WindowStore").Types(typ(s.Value)),
			jen.Qual(statePath, "NewWindowStore").Types(typ(s.Value)).Call(append(codec, spec, jen.Id(t.l("ctx")).Dot("CacheEntries"))...)
	}
	if s.Timestamped { // rows carry their timestamps, which a join's result takes
		return jen.Op("*").Qual(statePath, "TimestampedCache").Types(typ(s.Value)),
			jen.Qual(statePath, "NewTimestampedCache").Types(typ(s.Value)).Call(append(codec, jen.Id(t.l("ctx")).Dot("CacheEntries"))...)
	}
	return jen.Op("*").Qual(statePath, "Cache").Types(typ(s.Value)),
		jen.Qual(statePath, "NewCache").Types(typ(s.Value)).Call(append(codec, jen.Id(t.l("ctx")).Dot("CacheEntries"))...)
}

// storeKind is the Kind and Retention of a windowed store's StoreSpec, which
// the engine needs to give its changelog a time retention; for a key-value
// store, whether its rows carry timestamps.
func storeKind(s *ir.Store) []jen.Code {
	if s.Node.Op == ir.OpJoin {
		return joinStoreKind(s)
	}
	if s.Node.Op == ir.OpSuppress {
		return []jen.Code{jen.Id("Kind").Op(":").Qual(runtimePath, "SuppressBuffer")}
	}
	if s.Timestamped {
		return []jen.Code{jen.Id("Timestamped").Op(":").True()}
	}
	w := s.Node.Window
	if w == nil || !w.Timed() {
		return nil // count windows keep one entry per key
	}
	kind := "WindowStore"
	if w.Kind == ir.SessionWindow {
		kind = "SessionStore"
	}
	return []jen.Code{
		jen.Id("Kind").Op(":").Qual(runtimePath, kind),
		jen.Id("Retention").Op(":").Lit(int(w.Retention().Milliseconds())).Op("*").Qual("time", "Millisecond"),
	}
}

// countWindowed emits a count-windowed aggregation: the key's entry in a plain
// key-value store counts the key's records and holds the current window's
// aggregate, which starts afresh every Count records.
//
//	st, _ := slot.Value()               // streams.CountWindowed[A]
//	if st.Seen%n == 0 { a new window: Start = ts, the aggregate starts empty }
//	st.Seen++; st.End = max(st.End, ts); fold the record into st.Agg
func (t *taskGen) countWindowed(n *ir.Node, k, v string, m mode) []jen.Code {
	s := n.Store
	field := t.stores[s]
	slot, st, started := t.l(fmt.Sprintf("slot%d", n.ID)), t.l(fmt.Sprintf("st%d", n.ID)), t.l(fmt.Sprintf("started%d", n.ID))
	agg, wk := t.l(fmt.Sprintf("agg%d", n.ID)), t.l(fmt.Sprintf("w%d", n.ID))
	ts := t.timestamp()
	out := []jen.Code{jen.Commentf("%s over count windows of %d records per key.", n, n.Window.Count)}
	enc, key := t.encode(s.KeySerde, k, "storeKey", t.l(fmt.Sprintf("sk%d", n.ID)), "encode key for store "+s.Name)
	out = append(out, enc...)
	out = append(out,
		jen.List(jen.Id(slot), jen.Id(t.l("err"))).Op(":=").Id(t.l("t")).Dot(field).Dot("Slot").Call(key),
		t.fail("read store "+s.Name),
		jen.List(jen.Id(st), jen.Id("_")).Op(":=").Id(slot).Dot("Value").Call(),
		jen.Id(started).Op(":=").Id(st).Dot("Seen").Op("%").Lit(int(n.Window.Count)).Op("!=").Lit(0).Comment("the key's current window has records"),
		jen.If(jen.Op("!").Id(started)).Block(
			jen.Id(st).Op("=").Qual(streamsPath, "CountWindowed").Types(typ(n.Value)).Values(
				jen.Id("Seen").Op(":").Id(st).Dot("Seen"), jen.Id("Start").Op(":").Add(ts), jen.Id("End").Op(":").Add(ts),
			).Comment("the record opens a new window"),
		),
		jen.List(jen.Id(st).Dot("Seen"), jen.Id(st).Dot("End")).Op("=").List(jen.Id(st).Dot("Seen").Op("+").Lit(1), jen.Max(jen.Id(st).Dot("End"), ts)),
		jen.Id(agg).Op(":=").Id(st).Dot("Agg"),
	)
	out = append(out, t.fold(n, k, v, jen.Id(agg), jen.Id(started))...)
	out = append(out,
		jen.Id(st).Dot("Agg").Op("=").Id(agg),
		jen.Id(t.l("t")).Dot(field).Dot("Set").Call(jen.Id(slot), jen.Id(st)),
		jen.Id(wk).Op(":=").Qual(streamsPath, "Windowed").Types(typ(n.Inputs[0].Node.Key)).Values(
			jen.Id("Key").Op(":").Id(k),
			jen.Id("Start").Op(":").Qual("time", "UnixMilli").Call(jen.Id(st).Dot("Start")).Dot("UTC").Call(),
			jen.Id("End").Op(":").Qual("time", "UnixMilli").Call(jen.Id(st).Dot("End")).Dot("UTC").Call(),
		),
	)
	wts := t.l(fmt.Sprintf("wts%d", n.ID))
	out = append(out, jen.Id(wts).Op(":=").Id(st).Dot("End").Comment("the latest time that contributed: the result's"))
	outer := t.resultTime
	t.resultTime = wts
	defer func() { t.resultTime = outer }()
	return append(out, t.children(n, 0, wk, agg, m)...)
}
