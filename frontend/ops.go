package frontend

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"github.com/gofka/streams/ir"
)

// opFunc evaluates one DSL call. recv is the evaluated receiver (nil for
// package-level functions); pos is the position of the method name.
type opFunc func(recv value, call *ast.CallExpr, pos token.Pos) value

// ops is the table of DSL calls, keyed as callee names them.
func (e *evaluator) ops() map[string]opFunc {
	ops := map[string]opFunc{
		"NewBuilder":               e.opNewBuilder,
		"StreamsBuilder.Build":     e.opBuild,
		"StreamsBuilder.From":      e.opFrom,
		"StreamsBuilder.Stream":    e.opStream,
		"StreamsBuilder.Table":     e.opTable,
		"Stream.Filter":            e.opFilter(ir.OpFilter),
		"KStream.Filter":           e.opFilter(ir.OpFilter),
		"KStream.FilterNot":        e.opFilter(ir.OpFilterNot),
		"Stream.Map":               e.opMap,
		"KStream.Map":              e.opMap,
		"KStream.MapValues":        e.opMapValues(ir.OpMapValues),
		"KStream.FlatMapValues":    e.opMapValues(ir.OpFlatMapValues),
		"KStream.FlatMap":          e.opFlatMap,
		"KStream.SelectKey":        e.opSelectKey,
		"KStream.Peek":             e.opPeek,
		"KStream.Branch":           e.opBranch,
		"KStream.Split":            e.opBranch,
		"KStream.Merge":            e.opMerge,
		"KStream.Repartition":      e.opRepartition,
		"Stream.GroupByKey":        e.opGroupByKey,
		"KStream.GroupByKey":       e.opGroupByKey,
		"KStream.GroupBy":          e.opGroupBy,
		"Stream.To":                e.opTo,
		"KStream.To":               e.opTo,
		"GroupedStream.Aggregate":  e.opSeedAggregate,
		"KGroupedStream.Count":     e.opCount,
		"KGroupedStream.Reduce":    e.opReduce,
		"KGroupedStream.Aggregate": e.opAggregate,
		"KTable.ToStream":          e.opToStream,
		"KStream.Process":          e.opProcess,
	}
	e.windowOps(ops)
	e.tableOps(ops)
	e.joinOps(ops)
	e.fkJoinOps(ops)
	e.globalOps(ops)
	return ops
}

var bytesType = types.NewSlice(types.Universe.Lookup("byte").Type())

func bytesSerde() *ir.Serde { return &ir.Serde{Type: bytesType, Builtin: "BytesSerde"} }

// next adds a node reading s, with s's types and key state.
func (e *evaluator) next(op ir.Op, pos token.Pos, s streamVal) *ir.Node {
	in := s.port.Node
	n := e.g.NewNode(op, e.pos(pos), s.port)
	n.Key, n.Value, n.KeyChanged = in.Key, in.Value, in.KeyChanged
	return n
}

// typeString writes t as the user's code does: the package's own types bare,
// others qualified by package name (streams.Windowed[string], streams.Timer).
func (e *evaluator) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == e.Types {
			return ""
		}
		return p.Name()
	})
}

func (e *evaluator) opNewBuilder(_ value, call *ast.CallExpr, pos token.Pos) value {
	if e.builder {
		e.errorf(pos, "a topology has one builder; this is a second one")
		return nil
	}
	e.builder = true
	return builderVal{}
}

func (e *evaluator) opBuild(_ value, call *ast.CallExpr, pos token.Pos) value {
	if e.built {
		e.errorf(pos, "Build is called twice")
	}
	e.built = true
	return topologyVal{}
}

func (e *evaluator) opFrom(_ value, call *ast.CallExpr, pos token.Pos) value {
	topic, ok := e.sourceTopic(call.Args[0])
	if !ok {
		return nil
	}
	n := e.g.NewNode(ir.OpSource, e.pos(pos))
	n.Topics = []*ir.Topic{{Name: topic}}
	n.Key, n.Value = bytesType, bytesType
	n.KeySerde, n.ValueSerde = bytesSerde(), bytesSerde()
	return streamVal{port: ir.Port{Node: n}, seed: true}
}

func (e *evaluator) opStream(_ value, call *ast.CallExpr, pos token.Pos) value {
	key, val, srcTime, ok := e.sourceSerdes("Stream", call.Args[0])
	if !ok {
		return nil
	}
	if len(call.Args) < 2 {
		e.errorf(call.Rparen, "Stream needs at least one topic")
		return nil
	}
	n := e.g.NewNode(ir.OpSource, e.pos(pos))
	for _, a := range call.Args[1:] {
		if topic, ok := e.sourceTopic(a); ok {
			n.Topics = append(n.Topics, &ir.Topic{Name: topic})
		}
	}
	n.Key, n.Value = key.Type, val.Type
	n.KeySerde, n.ValueSerde = key, val
	srcTime.set(n)
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opTable(_ value, call *ast.CallExpr, pos token.Pos) value {
	key, val, srcTime, ok := e.sourceSerdes("Table", call.Args[0])
	topic, tok := e.sourceTopic(call.Args[1])
	if !ok || !tok {
		return nil
	}
	n := e.g.NewNode(ir.OpTable, e.pos(pos))
	n.Topics = []*ir.Topic{{Name: topic}}
	n.Key, n.Value = key.Type, val.Type
	n.KeySerde, n.ValueSerde = key, val
	srcTime.set(n)
	if !e.store(n, call.Args[2], key, val) {
		return nil
	}
	return tableVal{node: n}
}

func (e *evaluator) opFilter(op ir.Op) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		s := recv.(streamVal)
		in := s.port.Node
		f, sig := e.userFunc(op.String(), call.Args[0])
		if f != nil && (!e.params(sig, in.Key, in.Value) || !e.results(sig, types.Typ[types.Bool])) {
			e.wrongSig(op.String(), f, fmt.Sprintf("func(%s, %s) bool", e.typeString(in.Key), e.typeString(in.Value)))
		}
		// A filter keeps the record types, so the rest of the chain is checked even
		// when its function is wrong.
		n := e.next(op, pos, s)
		n.Fns = []*ir.Func{f}
		return streamVal{port: ir.Port{Node: n}, seed: s.seed}
	}
}

func (e *evaluator) opMap(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	in := s.port.Node
	f, sig := e.userFunc("Map", call.Args[0])
	if f == nil {
		return nil
	}
	if !e.params(sig, in.Key, in.Value) || sig.Results().Len() != 2 {
		e.wrongSig("Map", f, fmt.Sprintf("func(%s, %s) (newKey, newValue)", e.typeString(in.Key), e.typeString(in.Value)))
		if sig.Results().Len() != 2 {
			return nil
		}
		// Its results still say what the rest of the chain receives.
	}
	n := e.next(ir.OpMap, pos, s)
	n.Fns = []*ir.Func{f}
	n.Key, n.Value, n.KeyChanged = sig.Results().At(0).Type(), sig.Results().At(1).Type(), true
	return streamVal{port: ir.Port{Node: n}, seed: s.seed}
}

// opMapValues handles MapValues and FlatMapValues, whose function takes the value
// or the key and the value.
func (e *evaluator) opMapValues(op ir.Op) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		s := recv.(streamVal)
		in := s.port.Node
		f, sig := e.userFunc(op.String(), call.Args[0])
		if f == nil {
			return nil
		}
		result := "newValue"
		if op == ir.OpFlatMapValues {
			result = "[]newValue"
		}
		paramsOK := e.params(sig, in.Value) || e.params(sig, in.Key, in.Value)
		var out types.Type
		if sig.Results().Len() == 1 {
			out = sig.Results().At(0).Type()
			if op == ir.OpFlatMapValues {
				out = nil
				if sl, isSlice := sig.Results().At(0).Type().Underlying().(*types.Slice); isSlice {
					out = sl.Elem()
				}
			}
		}
		if !paramsOK || out == nil {
			e.wrongSig(op.String(), f, fmt.Sprintf("func(%s) %s or func(%s, %s) %s",
				e.typeString(in.Value), result, e.typeString(in.Key), e.typeString(in.Value), result))
			if out == nil {
				return nil
			}
			// Its result still says what the rest of the chain receives.
		}
		n := e.next(op, pos, s)
		n.Fns = []*ir.Func{f}
		n.Value = out
		return streamVal{port: ir.Port{Node: n}}
	}
}

func (e *evaluator) opFlatMap(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	in := s.port.Node
	f, sig := e.userFunc("FlatMap", call.Args[0])
	if f == nil {
		return nil
	}
	var kv *types.Named
	if sig.Results().Len() == 1 {
		if sl, ok := sig.Results().At(0).Type().Underlying().(*types.Slice); ok && isStreamsType(sl.Elem(), "KeyValue", false) {
			kv = types.Unalias(sl.Elem()).(*types.Named)
		}
	}
	if kv == nil || !e.params(sig, in.Key, in.Value) {
		e.wrongSig("FlatMap", f, fmt.Sprintf("func(%s, %s) []streams.KeyValue[newKey, newValue]", e.typeString(in.Key), e.typeString(in.Value)))
		if kv == nil {
			return nil
		}
		// Its result still says what the rest of the chain receives.
	}
	n := e.next(ir.OpFlatMap, pos, s)
	n.Fns = []*ir.Func{f}
	n.Key, n.Value, n.KeyChanged = kv.TypeArgs().At(0), kv.TypeArgs().At(1), true
	return streamVal{port: ir.Port{Node: n}}
}

// selectKey checks a key selector for SelectKey and GroupBy and adds the node.
func (e *evaluator) selectKey(opName string, s streamVal, arg ast.Expr, pos token.Pos) *ir.Node {
	in := s.port.Node
	f, sig := e.userFunc(opName, arg)
	if f == nil {
		return nil
	}
	if !e.params(sig, in.Key, in.Value) || sig.Results().Len() != 1 {
		e.wrongSig(opName, f, fmt.Sprintf("func(%s, %s) newKey", e.typeString(in.Key), e.typeString(in.Value)))
		if sig.Results().Len() != 1 {
			return nil
		}
		// Its result still says what the rest of the chain receives.
	}
	n := e.next(ir.OpSelectKey, pos, s)
	n.Fns = []*ir.Func{f}
	n.Key, n.KeyChanged = sig.Results().At(0).Type(), true
	return n
}

func (e *evaluator) opSelectKey(recv value, call *ast.CallExpr, pos token.Pos) value {
	n := e.selectKey("SelectKey", recv.(streamVal), call.Args[0], pos)
	if n == nil {
		return nil
	}
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opPeek(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	in := s.port.Node
	f, sig := e.userFunc("Peek", call.Args[0])
	if f != nil && (!e.params(sig, in.Key, in.Value) || sig.Results().Len() != 0) {
		e.wrongSig("Peek", f, fmt.Sprintf("func(%s, %s)", e.typeString(in.Key), e.typeString(in.Value)))
	}
	n := e.next(ir.OpPeek, pos, s)
	n.Fns = []*ir.Func{f}
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opBranch(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	in := s.port.Node
	if len(call.Args) == 0 {
		e.errorf(pos, "Branch needs at least one predicate")
		return nil
	}
	// A branch keeps the record types, so the branches are checked even when a
	// predicate is wrong: the node keeps one slot per predicate (nil when it could
	// not be resolved), and errors keep the graph from codegen.
	fns := make([]*ir.Func, len(call.Args))
	for i, a := range call.Args {
		f, sig := e.userFunc("Branch", a)
		if f != nil && (!e.params(sig, in.Key, in.Value) || !e.results(sig, types.Typ[types.Bool])) {
			e.wrongSig("Branch", f, fmt.Sprintf("func(%s, %s) bool", e.typeString(in.Key), e.typeString(in.Value)))
		}
		fns[i] = f
	}
	n := e.next(ir.OpBranch, pos, s)
	n.Fns = fns
	return branchesVal{node: n}
}

func (e *evaluator) opMerge(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	other, ok := e.eval(call.Args[0]).(streamVal)
	if !ok { // reported; go on with this stream's types
		return streamVal{port: ir.Port{Node: e.next(ir.OpMerge, pos, s)}}
	}
	a, b := s.port.Node, other.port.Node
	if !types.Identical(a.Key, b.Key) || !types.Identical(a.Value, b.Value) {
		e.errorf(call.Args[0].Pos(), "Merge: streams differ: this one has key %s and value %s, the other key %s and value %s",
			e.typeString(a.Key), e.typeString(a.Value), e.typeString(b.Key), e.typeString(b.Value))
		n := e.next(ir.OpMerge, pos, s) // go on with this stream's types
		return streamVal{port: ir.Port{Node: n}}
	}
	n := e.next(ir.OpMerge, pos, s)
	n.Inputs = append(n.Inputs, other.port)
	n.KeyChanged = a.KeyChanged || b.KeyChanged
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opRepartition(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	n := e.next(ir.OpRepartition, pos, s)
	e.boundary("Repartition", n, call.Args, pos) // on errors, go on with the stream's types
	n.KeyChanged = false
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opGroupByKey(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	n := e.next(ir.OpGroup, pos, s)
	e.boundary("GroupByKey", n, call.Args, pos) // on errors, go on with the stream's types
	return groupedVal{node: n, seed: s.seed}
}

func (e *evaluator) opGroupBy(recv value, call *ast.CallExpr, pos token.Pos) value {
	sel := e.selectKey("GroupBy", recv.(streamVal), call.Args[0], pos)
	if sel == nil {
		return nil
	}
	n := e.next(ir.OpGroup, pos, streamVal{port: ir.Port{Node: sel}})
	e.boundary("GroupBy", n, call.Args[1:], pos) // on errors, go on with the stream's types
	return groupedVal{node: n}
}

func (e *evaluator) opTo(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	topic, ok := e.topic(call.Args[0])
	if !ok {
		return nil
	}
	n := e.next(ir.OpSink, pos, s)
	n.Topics = []*ir.Topic{{Name: topic}}
	e.boundary("To", n, call.Args[1:], pos)
	return nil
}

// boundary sets a node's serdes from its options (With, Named) or the defaults for
// its types.
func (e *evaluator) boundary(opName string, n *ir.Node, opts []ast.Expr, pos token.Pos) bool {
	key, val, named, ok := e.options(opName, opts, n.Key, n.Value)
	if !ok {
		return false
	}
	n.RepartitionName = named
	n.KeySerde, n.ValueSerde = key, val
	if n.KeySerde == nil && isStreamsType(n.Key, "Windowed", false) {
		n.KeySerde = e.windowedKeySerde(opName, n, pos)
	} else if n.KeySerde == nil {
		n.KeySerde = e.defaultSerde(opName, "key", n.Key, pos)
	}
	if n.ValueSerde == nil {
		n.ValueSerde = e.defaultSerde(opName, "value", n.Value, pos)
	}
	if n.Op != ir.OpGroup || n.KeyChanged { // a grouping encodes only to repartition
		e.encodable(opName, "key", n.KeySerde, e.pos(pos))
		e.encodable(opName, "value", n.ValueSerde, e.pos(pos))
	}
	return n.KeySerde != nil && n.ValueSerde != nil
}

// encodable reports a JSON serde for a type that encoding/json cannot encode: the
// generated code would fail on every record at run time (json: unsupported type).
func (e *evaluator) encodable(opName, side string, s *ir.Serde, pos token.Position) {
	if s == nil || s.Builtin != "JSONSerde" {
		return
	}
	why := ir.JSONProblem(s.Type, types.RelativeTo(e.Types))
	if why == "" {
		return
	}
	fix := "give the type a MarshalJSON method or pass another serde with streams.With"
	if strings.HasPrefix(why, "field ") {
		fix = "tag the field json:\"-\", " + fix
	}
	e.errs = append(e.errs, ir.Errorf(pos, "%s: the JSON serde cannot encode %s type %s: %s; %s", opName, side, e.typeString(s.Type), why, fix))
}

func (e *evaluator) defaultSerde(opName, side string, t types.Type, pos token.Pos) *ir.Serde {
	s := ir.DefaultSerde(t)
	if s == nil {
		e.errorf(pos, "%s: no serde for %s type %s: pass one with streams.With(keySerde, valueSerde)", opName, side, e.typeString(t))
	}
	return s
}

func (e *evaluator) opSeedAggregate(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedVal)
	init, _ := e.userFunc("Aggregate", call.Args[0])
	adder, _ := e.userFunc("Aggregate", call.Args[1])
	if init == nil || adder == nil {
		return nil
	}
	n := e.next(ir.OpAggregate, pos, streamVal{port: ir.Port{Node: g.node}})
	n.Fns = []*ir.Func{init, adder}
	n.SeedAdder = true
	n.Value, n.KeyChanged = bytesType, false
	if !e.store(n, call.Args[2], g.node.KeySerde, bytesSerde()) {
		return nil
	}
	return streamVal{port: ir.Port{Node: n}, seed: true}
}

func (e *evaluator) opCount(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedVal)
	return e.aggregation(ir.OpCount, g, nil, types.Typ[types.Int64], call.Args[0], call.Args[1:], pos)
}

func (e *evaluator) opReduce(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedVal)
	f, ok := e.reducer(g, call.Args[0])
	if !ok {
		return nil
	}
	return e.aggregation(ir.OpReduce, g, []*ir.Func{f}, g.node.Value, call.Args[1], call.Args[2:], pos)
}

// reducer checks Reduce's function: func(agg, value V) V.
func (e *evaluator) reducer(g groupedVal, arg ast.Expr) (*ir.Func, bool) {
	in := g.node
	f, sig := e.userFunc("Reduce", arg)
	if f == nil {
		return nil, false
	}
	if !e.params(sig, in.Value, in.Value) || !e.results(sig, in.Value) {
		v := e.typeString(in.Value)
		e.wrongSig("Reduce", f, fmt.Sprintf("func(agg %s, value %s) %s", v, v, v))
		return nil, false
	}
	return f, true
}

func (e *evaluator) opAggregate(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedVal)
	fns, agg, ok := e.aggregator(g, call.Args[0], call.Args[1])
	if !ok {
		return nil
	}
	return e.aggregation(ir.OpAggregate, g, fns, agg, call.Args[2], call.Args[3:], pos)
}

// aggregator checks Aggregate's initializer and adder and returns them with the
// aggregate type.
func (e *evaluator) aggregator(g groupedVal, initArg, adderArg ast.Expr) ([]*ir.Func, types.Type, bool) {
	in := g.node
	init, isig := e.userFunc("Aggregate", initArg)
	adder, asig := e.userFunc("Aggregate", adderArg)
	if init == nil || adder == nil {
		return nil, nil, false
	}
	if isig.Params().Len() != 0 || isig.Results().Len() != 1 {
		e.wrongSig("Aggregate", init, "func() agg, the initializer")
		return nil, nil, false
	}
	agg := isig.Results().At(0).Type()
	if !e.params(asig, in.Key, in.Value, agg) || !e.results(asig, agg) {
		a := e.typeString(agg)
		e.wrongSig("Aggregate", adder, fmt.Sprintf("func(key %s, value %s, agg %s) %s, the adder", e.typeString(in.Key), e.typeString(in.Value), a, a))
		return nil, nil, false
	}
	return []*ir.Func{init, adder}, agg, true
}

// aggregation adds a Count, Reduce or Aggregate node with its store.
func (e *evaluator) aggregation(op ir.Op, g groupedVal, fns []*ir.Func, agg types.Type, storeArg ast.Expr, opts []ast.Expr, pos token.Pos) value {
	key, val, _, ok := e.options(op.String(), opts, g.node.Key, agg)
	if key == nil {
		key = g.node.KeySerde // nil if the grouping's was wrong, and reported
	}
	if val == nil && ok {
		val = e.defaultSerde(op.String(), "aggregate", agg, pos)
	}
	n := e.next(op, pos, streamVal{port: ir.Port{Node: g.node}})
	n.Fns = fns
	n.Value, n.KeyChanged = agg, false
	e.store(n, storeArg, key, val) // on errors, go on with the table's types
	return tableVal{node: n}
}

func (e *evaluator) opToStream(recv value, call *ast.CallExpr, pos token.Pos) value {
	t := recv.(tableVal)
	n := e.next(ir.OpToStream, pos, streamVal{port: ir.Port{Node: t.node}})
	return streamVal{port: ir.Port{Node: n}}
}

// wrongSig reports a user function whose signature does not fit the stream.
func (e *evaluator) wrongSig(opName string, f *ir.Func, want string) {
	e.errs = append(e.errs, ir.Errorf(f.Pos, "%s: %s has type %s, want %s", opName, f.Display, e.typeString(f.Sig), want))
}

// params reports whether sig takes exactly the given parameter types.
func (e *evaluator) params(sig *types.Signature, want ...types.Type) bool {
	if sig.Params().Len() != len(want) || sig.Variadic() {
		return false
	}
	for i, t := range want {
		if !types.Identical(sig.Params().At(i).Type(), t) {
			return false
		}
	}
	return true
}

// results reports whether sig returns exactly the given types.
func (e *evaluator) results(sig *types.Signature, want ...types.Type) bool {
	if sig.Results().Len() != len(want) {
		return false
	}
	for i, t := range want {
		if !types.Identical(sig.Results().At(i).Type(), t) {
			return false
		}
	}
	return true
}
