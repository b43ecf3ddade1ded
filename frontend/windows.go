package frontend

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"time"

	"github.com/gofka/streams/ir"
)

// Windowed aggregations and Suppress. A Windows value (TumblingWindows(...).Grace(...))
// and a Suppressed value are read where they are written, in the WindowedBy or
// Suppress call, with their durations as constants; WindowedBy then yields a
// windowedVal, whose Count, Reduce or Aggregate adds an ordinary aggregation node
// with its Window set and the key type streams.Windowed[K].

type (
	windowsVal  struct{ w *ir.Window }
	windowedVal struct {
		group groupedVal
		w     *ir.Window
	}
	suppressedVal struct{ s *ir.Suppression }
)

func (e *evaluator) windowOps(ops map[string]opFunc) {
	ops["TumblingWindows"] = e.opTimeWindows(ir.TumblingWindow)
	ops["HoppingWindows"] = e.opTimeWindows(ir.HoppingWindow)
	ops["SlidingWindows"] = e.opTimeWindows(ir.SlidingWindow)
	ops["SessionWindows"] = e.opTimeWindows(ir.SessionWindow)
	ops["CountWindows"] = e.opCountWindows
	ops["Windows.Grace"] = e.opGrace
	ops["KGroupedStream.WindowedBy"] = e.opWindowedBy
	ops["WindowedKStream.Count"] = e.opWindowedCount
	ops["WindowedKStream.Reduce"] = e.opWindowedReduce
	ops["WindowedKStream.Aggregate"] = e.opWindowedAggregate
	ops["KTable.Suppress"] = e.opSuppress
	ops["UntilWindowCloses"] = e.opUntilWindowCloses
	ops["UntilTimeLimit"] = e.opUntilTimeLimit
}

// duration reads a constant time.Duration argument. It reports a non-constant
// one, and one that is not positive unless zero is allowed.
func (e *evaluator) duration(opName, what string, x ast.Expr, allowZero bool) (time.Duration, bool) {
	tv := e.Info.Types[x]
	if tv.Value == nil || tv.Value.Kind() != constant.Int {
		e.errorf(x.Pos(), "%s: %s must be a constant duration, such as time.Minute or 5*time.Second: gofkagen reads it at compile time; %s is computed at run time", opName, what, types.ExprString(x))
		return 0, false
	}
	n, exact := constant.Int64Val(tv.Value)
	d := time.Duration(n)
	switch {
	case !exact:
		e.errorf(x.Pos(), "%s: %s %s does not fit in a time.Duration", opName, what, tv.Value)
		return 0, false
	case d < 0 && allowZero:
		e.errorf(x.Pos(), "%s: %s must not be negative, got %v", opName, what, d)
		return 0, false
	case d <= 0 && !allowZero:
		e.errorf(x.Pos(), "%s: %s must be positive, got %v", opName, what, d)
		return 0, false
	case d%time.Millisecond != 0:
		e.errorf(x.Pos(), "%s: %s %v is not a whole number of milliseconds: record times are in milliseconds", opName, what, d)
		return 0, false
	}
	return d, true
}

func (e *evaluator) opTimeWindows(kind ir.WindowKind) opFunc {
	return func(_ value, call *ast.CallExpr, pos token.Pos) value {
		name := map[ir.WindowKind]string{ir.TumblingWindow: "TumblingWindows", ir.HoppingWindow: "HoppingWindows", ir.SlidingWindow: "SlidingWindows", ir.SessionWindow: "SessionWindows"}[kind]
		what := map[ir.WindowKind]string{ir.TumblingWindow: "the size", ir.HoppingWindow: "the size", ir.SlidingWindow: "the time difference", ir.SessionWindow: "the inactivity gap"}[kind]
		d, ok := e.duration(name, what, call.Args[0], false)
		w := &ir.Window{Kind: kind}
		switch kind {
		case ir.SessionWindow:
			w.Gap = d
		case ir.HoppingWindow:
			w.Size = d
			adv, aok := e.duration(name, "the advance", call.Args[1], false)
			if ok && aok && adv > d {
				e.errorf(call.Args[1].Pos(), "HoppingWindows: the advance %v is larger than the size %v, so records between windows would fall in none: make the advance at most the size", adv, d)
				return nil
			}
			ok = ok && aok
			w.Advance = adv
		default:
			w.Size, w.Advance = d, d
		}
		if !ok {
			return nil
		}
		return windowsVal{w: w}
	}
}

func (e *evaluator) opCountWindows(_ value, call *ast.CallExpr, pos token.Pos) value {
	tv := e.Info.Types[call.Args[0]]
	if tv.Value == nil || tv.Value.Kind() != constant.Int {
		e.errorf(call.Args[0].Pos(), "CountWindows: the number of records must be a constant; %s is computed at run time", types.ExprString(call.Args[0]))
		return nil
	}
	n, _ := constant.Int64Val(tv.Value)
	if n <= 0 {
		e.errorf(call.Args[0].Pos(), "CountWindows: the number of records per window must be positive, got %d", n)
		return nil
	}
	return windowsVal{w: &ir.Window{Kind: ir.CountWindow, Count: n}}
}

func (e *evaluator) opGrace(recv value, call *ast.CallExpr, pos token.Pos) value {
	w := recv.(windowsVal).w
	if w.Kind == ir.CountWindow {
		e.errorf(pos, "Grace: count windows have no time, so no grace: remove .Grace")
		return nil
	}
	d, ok := e.duration("Grace", "the grace period", call.Args[0], true)
	if !ok {
		return nil
	}
	c := *w
	c.Grace = d
	return windowsVal{w: &c}
}

func (e *evaluator) opWindowedBy(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedVal)
	w, ok := e.eval(call.Args[0]).(windowsVal)
	if !ok {
		return nil // reported
	}
	return windowedVal{group: g, w: w.w}
}

// windowedOptions splits a windowed aggregation's options into its own
// (LateRecordsTo, SessionMerger) and the rest, which options reads.
func (e *evaluator) windowedOptions(opts []ast.Expr) (late string, merger ast.Expr, rest []ast.Expr) {
	for _, o := range opts {
		call, isCall := ast.Unparen(o).(*ast.CallExpr)
		if isCall {
			if tv := e.Info.Types[call.Fun]; tv.IsType() && isStreamsType(tv.Type, "LateRecordsTo", false) && len(call.Args) == 1 {
				if topic, ok := e.topic(call.Args[0]); ok {
					late = topic
				}
				continue
			}
			if name, _ := e.callee(call); name == "SessionMerger" {
				merger = call.Args[0]
				continue
			}
		}
		rest = append(rest, o)
	}
	return late, merger, rest
}

func (e *evaluator) opWindowedCount(recv value, call *ast.CallExpr, pos token.Pos) value {
	return e.windowed(ir.OpCount, recv.(windowedVal), nil, types.Typ[types.Int64], call.Args[0], call.Args[1:], pos)
}

func (e *evaluator) opWindowedReduce(recv value, call *ast.CallExpr, pos token.Pos) value {
	wv := recv.(windowedVal)
	f, ok := e.reducer(wv.group, call.Args[0])
	if !ok {
		return nil
	}
	return e.windowed(ir.OpReduce, wv, []*ir.Func{f}, wv.group.node.Value, call.Args[1], call.Args[2:], pos)
}

func (e *evaluator) opWindowedAggregate(recv value, call *ast.CallExpr, pos token.Pos) value {
	wv := recv.(windowedVal)
	fns, agg, ok := e.aggregator(wv.group, call.Args[0], call.Args[1])
	if !ok {
		return nil
	}
	_, merger, _ := e.windowedOptions(call.Args[3:])
	switch {
	case wv.w.Kind == ir.SessionWindow && merger == nil:
		e.errorf(pos, "Aggregate over session windows needs a merger, to combine two sessions a record bridges: add the option streams.SessionMerger(merge), merge being func(key %s, agg1, agg2 %s) %s",
			e.typeString(wv.group.node.Key), e.typeString(agg), e.typeString(agg))
		return nil
	case wv.w.Kind != ir.SessionWindow && merger != nil:
		e.errorf(merger.Pos(), "SessionMerger: only session windows merge; this aggregation is over %s windows", wv.w.Kind)
		return nil
	case merger != nil:
		m, sig := e.userFunc("SessionMerger", merger)
		if m == nil {
			return nil
		}
		if !e.params(sig, wv.group.node.Key, agg, agg) || !e.results(sig, agg) {
			a := e.typeString(agg)
			e.wrongSig("SessionMerger", m, fmt.Sprintf("func(key %s, agg1 %s, agg2 %s) %s", e.typeString(wv.group.node.Key), a, a, a))
			return nil
		}
		fns = append(fns, m)
	}
	return e.windowed(ir.OpAggregate, wv, fns, agg, call.Args[2], call.Args[3:], pos)
}

// windowed adds a windowed aggregation: an aggregation node whose key is
// streams.Windowed[K], with its window and its late-records topic.
func (e *evaluator) windowed(op ir.Op, wv windowedVal, fns []*ir.Func, agg types.Type, storeArg ast.Expr, opts []ast.Expr, pos token.Pos) value {
	late, _, rest := e.windowedOptions(opts)
	t, ok := e.aggregation(op, wv.group, fns, agg, storeArg, rest, pos).(tableVal)
	if !ok {
		return nil
	}
	n := t.node
	n.Window = wv.w
	if late != "" {
		n.Topics = []*ir.Topic{{Name: late}}
	}
	wk := e.streamsGeneric("Windowed", wv.group.node.Key)
	if wk == nil {
		e.errorf(pos, "%s: the streams package has no Windowed type: is it an old version?", op)
		return nil
	}
	n.Key = wk
	if wv.w.Kind == ir.CountWindow && n.Store != nil {
		// The store keeps, per key, the records seen and the current window.
		st := e.streamsGeneric("CountWindowed", agg)
		if st == nil {
			e.errorf(pos, "%s: the streams package has no CountWindowed type: is it an old version?", op)
			return nil
		}
		n.Store.Value = st
		n.Store.ValueSerde = &ir.Serde{Type: st, Builtin: "CountWindowedSerde", Inner: n.Store.ValueSerde}
	}
	return t
}

// streamsGeneric is the streams package's generic type name instantiated with arg.
func (e *evaluator) streamsGeneric(name string, arg types.Type) types.Type {
	key := arg
	for _, imp := range e.Types.Imports() {
		if imp.Path() != StreamsPath {
			continue
		}
		obj, ok := imp.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			return nil
		}
		t, err := types.Instantiate(nil, obj.Type(), []types.Type{key}, true)
		if err != nil {
			return nil
		}
		return t
	}
	return nil
}

func (e *evaluator) opUntilWindowCloses(_ value, call *ast.CallExpr, pos token.Pos) value {
	return suppressedVal{s: &ir.Suppression{Kind: ir.UntilWindowCloses}}
}

func (e *evaluator) opUntilTimeLimit(_ value, call *ast.CallExpr, pos token.Pos) value {
	d, ok := e.duration("UntilTimeLimit", "the time limit", call.Args[0], true)
	tv := e.Info.Types[call.Args[1]]
	if tv.Value == nil || tv.Value.Kind() != constant.Int {
		e.errorf(call.Args[1].Pos(), "UntilTimeLimit: maxRecords must be a constant; %s is computed at run time", types.ExprString(call.Args[1]))
		return nil
	}
	max, _ := constant.Int64Val(tv.Value)
	if !ok {
		return nil
	}
	return suppressedVal{s: &ir.Suppression{Kind: ir.UntilTimeLimit, Limit: d, MaxRecords: int(max)}}
}

// windowOf is the windowed aggregation a table's updates come from, or nil.
func windowOf(n *ir.Node) *ir.Node {
	for n != nil {
		if n.Window != nil {
			return n
		}
		if n.Op != ir.OpSuppress || len(n.Inputs) == 0 {
			return nil
		}
		n = n.Inputs[0].Node
	}
	return nil
}

func (e *evaluator) opSuppress(recv value, call *ast.CallExpr, pos token.Pos) value {
	t := recv.(tableVal)
	s, ok := e.eval(call.Args[0]).(suppressedVal)
	if !ok {
		return nil
	}
	origin := windowOf(t.node)
	windowed := origin != nil
	switch {
	case windowed && origin.Window.Kind == ir.CountWindow:
		e.errorf(call.Args[0].Pos(), "Suppress: count windows close by count, not by time, and every update of one is already its result; suppress a time-windowed table")
		return nil
	case s.s.Kind == ir.UntilWindowCloses && !windowed:
		e.errorf(call.Args[0].Pos(), "Suppress: UntilWindowCloses needs a windowed table (an aggregation after WindowedBy); this table's keys never close: use UntilTimeLimit(d, maxRecords)")
		return nil
	case s.s.Kind == ir.UntilTimeLimit && !windowed && s.s.MaxRecords <= 0:
		e.errorf(call.Args[0].Pos(), "Suppress on an unwindowed table needs a bound: its keys never close, so the buffer could grow without end; pass maxRecords > 0 to UntilTimeLimit")
		return nil
	}
	n := e.next(ir.OpSuppress, pos, streamVal{port: ir.Port{Node: t.node}})
	n.Suppress = s.s
	if !windowed {
		origin = tableOrigin(t.node)
	}
	e.suppressBuffer(n, origin, windowed, pos)
	return tableVal{node: n}
}

// tableOrigin is the node whose store holds an unwindowed table's values: the
// aggregation or table source before any Suppress.
func tableOrigin(n *ir.Node) *ir.Node {
	for n != nil && n.Op == ir.OpSuppress && len(n.Inputs) > 0 {
		n = n.Inputs[0].Node
	}
	return n
}

// suppressBuffer gives a Suppress its buffer, a store named after the table's
// ("<store>-suppress"), whose changelog keeps pending results across restarts.
// Entries are keyed by the (windowed) key's bytes and hold the encoded value.
func (e *evaluator) suppressBuffer(n, origin *ir.Node, windowed bool, pos token.Pos) {
	if origin == nil || origin.Store == nil {
		return // reported at the aggregation
	}
	name := origin.Store.Name + "-suppress"
	if first, dup := e.stores[name]; dup {
		e.errorf(pos, "Suppress: its buffer is named %q, which the store at %s already uses: rename that store", name, first)
		return
	}
	e.stores[name] = n.Pos
	key := origin.Store.KeySerde
	if windowed {
		key = e.windowedKeySerde("Suppress", n, pos)
	}
	if key == nil {
		return
	}
	s := &ir.Store{
		Name: name, Pos: n.Pos, Persistent: origin.Store.Persistent,
		Key: n.Key, Value: n.Value, KeySerde: key, ValueSerde: origin.Store.ValueSerde, Node: n,
	}
	n.Store = s
	e.g.Stores = append(e.g.Stores, s)
}

// windowedKeySerde is the default serde of a streams.Windowed[K] key at a
// boundary: Kafka Streams' time-windowed or session-windowed layout around the
// plain key's serde, taken from the windowed aggregation the key comes from
// (which also gives a time window's size).
func (e *evaluator) windowedKeySerde(opName string, n *ir.Node, pos token.Pos) *ir.Serde {
	var origin *ir.Node
	for c := n; c != nil && types.Identical(c.Key, n.Key); {
		if c.Window != nil {
			origin = c
			break
		}
		if len(c.Inputs) == 0 {
			break
		}
		c = c.Inputs[0].Node
	}
	if origin == nil {
		e.errorf(pos, "%s: no default serde for key type %s: it does not come straight from a windowed aggregation, so its window size is unknown; pass streams.With(streams.TimeWindowedSerde[K, S]{Inner: ..., Size: ...}, valueSerde)", opName, e.typeString(n.Key))
		return nil
	}
	if origin.Store == nil || origin.Store.KeySerde == nil {
		return nil // reported at the aggregation
	}
	inner := origin.Store.KeySerde
	if inner.Builtin == "JSONSerde" {
		if why := ir.JSONProblem(inner.Type, types.RelativeTo(e.Types)); why != "" {
			e.errorf(pos, "%s: the windowed key %s cannot be encoded: its inner key's JSON serde fails: %s; pass a key serde that can with streams.With on the grouping", opName, e.typeString(n.Key), why)
			return nil
		}
	}
	s := &ir.Serde{Type: n.Key, Builtin: "TimeWindowedSerde", Inner: inner, WindowSize: origin.Window.Size}
	switch origin.Window.Kind {
	case ir.SessionWindow:
		s.Builtin, s.WindowSize = "SessionWindowedSerde", 0
	case ir.CountWindow: // bounds are the first and latest record times, both written
		s.Builtin, s.WindowSize = "SessionWindowedSerde", 0
	}
	return s
}

// windowOption reports whether o is streams.LateRecordsTo(...) or
// streams.SessionMerger(...), which only a windowed aggregation takes.
func windowOption(e *evaluator, o ast.Expr) bool {
	call, isCall := ast.Unparen(o).(*ast.CallExpr)
	if !isCall {
		return false
	}
	if tv := e.Info.Types[call.Fun]; tv.IsType() && isStreamsType(tv.Type, "LateRecordsTo", false) {
		return true
	}
	name, _ := e.callee(call)
	return name == "SessionMerger"
}
