package frontend

// Tables and joins: ToTable, the KTable operators, KGroupedTable aggregations,
// stream-table and table-table joins. Each call checks its functions against the
// table's key and value types and adds one node (ir/table.go says what the
// nodes do).
//
//	KStream.ToTable ─▶ ToTable (store)
//	KTable.Filter/FilterNot/MapValues ─▶ TableFilter/TableFilterNot/TableMapValues
//	KTable.GroupBy ─▶ TableGroupBy ─▶ Repartition{Changes} ─▶ KGroupedTable.Count/Reduce/Aggregate
//	KStream.Join/LeftJoin(*KTable) ─▶ StreamTableJoin (reads the table's store)
//	KTable.Join/LeftJoin/OuterJoin ─▶ TableJoin (reads both stores)

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"github.com/gofka/streams/ir"
)

// groupedTableVal is a table re-keyed by GroupBy: node is the Repartition
// carrying its changes.
type groupedTableVal struct{ node *ir.Node }

// tableOps adds the table calls to the op table.
func (e *evaluator) tableOps(ops map[string]opFunc) {
	ops["KStream.ToTable"] = e.opToTable
	ops["KTable.Filter"] = e.opTableFilter(ir.OpTableFilter)
	ops["KTable.FilterNot"] = e.opTableFilter(ir.OpTableFilterNot)
	ops["KTable.MapValues"] = e.opTableMapValues
	ops["KTable.GroupBy"] = e.opTableGroupBy
	ops["KGroupedTable.Count"] = e.opTableCount
	ops["KGroupedTable.Reduce"] = e.opTableReduce
	ops["KGroupedTable.Aggregate"] = e.opTableAggregate
	ops["KTable.Join"] = e.opTableJoin(ir.InnerJoin)
	ops["KTable.LeftJoin"] = e.opTableJoin(ir.LeftJoin)
	ops["KTable.OuterJoin"] = e.opTableJoin(ir.OuterJoin)
}

// nextTable adds a node reading table t, with its types.
func (e *evaluator) nextTable(op ir.Op, pos token.Pos, t tableVal) *ir.Node {
	return e.next(op, pos, streamVal{port: ir.Port{Node: t.node}})
}

// changesTable reports a table whose rows are not changes of a key-value table:
// a windowed aggregation or a Suppress, which the table steps do not take yet.
func (e *evaluator) changesTable(opName string, t tableVal, pos token.Pos) bool {
	if ir.EmitsChanges(t.node) {
		return true
	}
	e.errorf(pos, "%s: the table is windowed or suppressed; table steps take a table read with Table, made by ToTable, or an unwindowed aggregation (turn this one into a stream with ToStream first)", opName)
	return false
}

func (e *evaluator) opToTable(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	n := e.next(ir.OpToTable, pos, s)
	if !e.boundary("ToTable", n, call.Args[1:], pos) {
		return nil
	}
	e.store(n, call.Args[0], n.KeySerde, n.ValueSerde) // on errors, go on with the table's types
	n.KeyChanged = false                               // a changed key is repartitioned first (ir.InsertTableRepartitions)
	return tableVal{node: n}
}

func (e *evaluator) opTableFilter(op ir.Op) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		t := recv.(tableVal)
		in := t.node
		name := "KTable." + op.String()[len("Table"):]
		if !e.changesTable(name, t, pos) {
			return nil
		}
		f, sig := e.userFunc(name, call.Args[0])
		if f != nil && (!e.params(sig, in.Key, in.Value) || !e.results(sig, types.Typ[types.Bool])) {
			e.wrongSig(name, f, fmt.Sprintf("func(%s, %s) bool", e.typeString(in.Key), e.typeString(in.Value)))
		}
		n := e.nextTable(op, pos, t)
		n.Fns = []*ir.Func{f}
		return tableVal{node: n}
	}
}

func (e *evaluator) opTableMapValues(recv value, call *ast.CallExpr, pos token.Pos) value {
	t := recv.(tableVal)
	in := t.node
	if !e.changesTable("KTable.MapValues", t, pos) {
		return nil
	}
	f, sig := e.userFunc("KTable.MapValues", call.Args[0])
	if f == nil {
		return nil
	}
	if !(e.params(sig, in.Value) || e.params(sig, in.Key, in.Value)) || sig.Results().Len() != 1 {
		e.wrongSig("KTable.MapValues", f, fmt.Sprintf("func(%s) newValue or func(%s, %s) newValue",
			e.typeString(in.Value), e.typeString(in.Key), e.typeString(in.Value)))
		if sig.Results().Len() != 1 {
			return nil
		}
	}
	n := e.nextTable(ir.OpTableMapValues, pos, t)
	n.Fns = []*ir.Func{f}
	n.Value = sig.Results().At(0).Type()
	return tableVal{node: n}
}

// opTableGroupBy adds the re-keying node and the repartition carrying its changes,
// whose serdes come from the options (With) or the new types' defaults.
func (e *evaluator) opTableGroupBy(recv value, call *ast.CallExpr, pos token.Pos) value {
	t := recv.(tableVal)
	in := t.node
	if !e.changesTable("KTable.GroupBy", t, pos) {
		return nil
	}
	f, sig := e.userFunc("KTable.GroupBy", call.Args[0])
	if f == nil {
		return nil
	}
	if !e.params(sig, in.Key, in.Value) || sig.Results().Len() != 2 {
		e.wrongSig("KTable.GroupBy", f, fmt.Sprintf("func(%s, %s) (newKey, newValue)", e.typeString(in.Key), e.typeString(in.Value)))
		if sig.Results().Len() != 2 {
			return nil
		}
	}
	g := e.nextTable(ir.OpTableGroupBy, pos, t)
	g.Fns = []*ir.Func{f}
	g.Key, g.Value, g.KeyChanged = sig.Results().At(0).Type(), sig.Results().At(1).Type(), true
	r := e.next(ir.OpRepartition, pos, streamVal{port: ir.Port{Node: g}})
	r.Changes, r.KeyChanged = true, false
	if !e.boundary("KTable.GroupBy", r, call.Args[1:], pos) {
		return nil
	}
	return groupedTableVal{node: r}
}

func (e *evaluator) opTableCount(recv value, call *ast.CallExpr, pos token.Pos) value {
	return e.tableAggregation(ir.OpTableCount, recv.(groupedTableVal), nil, types.Typ[types.Int64], call.Args[0], call.Args[1:], pos)
}

func (e *evaluator) opTableReduce(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedTableVal)
	v := g.node.Value
	var fns []*ir.Func
	for i, what := range []string{"adder", "subtractor"} {
		f, sig := e.userFunc("KGroupedTable.Reduce", call.Args[i])
		if f == nil {
			return nil
		}
		if !e.params(sig, v, v) || !e.results(sig, v) {
			vs := e.typeString(v)
			e.wrongSig("KGroupedTable.Reduce", f, fmt.Sprintf("func(agg %s, value %s) %s, the %s", vs, vs, vs, what))
			return nil
		}
		fns = append(fns, f)
	}
	return e.tableAggregation(ir.OpTableReduce, g, fns, v, call.Args[2], call.Args[3:], pos)
}

func (e *evaluator) opTableAggregate(recv value, call *ast.CallExpr, pos token.Pos) value {
	g := recv.(groupedTableVal)
	init, isig := e.userFunc("KGroupedTable.Aggregate", call.Args[0])
	if init == nil {
		return nil
	}
	if isig.Params().Len() != 0 || isig.Results().Len() != 1 {
		e.wrongSig("KGroupedTable.Aggregate", init, "func() agg, the initializer")
		return nil
	}
	agg := isig.Results().At(0).Type()
	fns := []*ir.Func{init}
	for i, what := range []string{"adder", "subtractor"} {
		f, sig := e.userFunc("KGroupedTable.Aggregate", call.Args[1+i])
		if f == nil {
			return nil
		}
		if !e.params(sig, g.node.Key, g.node.Value, agg) || !e.results(sig, agg) {
			a := e.typeString(agg)
			e.wrongSig("KGroupedTable.Aggregate", f, fmt.Sprintf("func(key %s, value %s, agg %s) %s, the %s",
				e.typeString(g.node.Key), e.typeString(g.node.Value), a, a, what))
			return nil
		}
		fns = append(fns, f)
	}
	return e.tableAggregation(ir.OpTableAggregate, g, fns, agg, call.Args[3], call.Args[4:], pos)
}

// tableAggregation adds a TableCount, TableReduce or TableAggregate node with its
// store, and names the repartition topic after the store unless Named was given.
func (e *evaluator) tableAggregation(op ir.Op, g groupedTableVal, fns []*ir.Func, agg types.Type, storeArg ast.Expr, opts []ast.Expr, pos token.Pos) value {
	name := "KGroupedTable." + op.String()[len("Table"):]
	_, val, _, ok := e.options(name, opts, g.node.Key, agg)
	if val == nil && ok {
		val = e.defaultSerde(name, "aggregate", agg, pos)
	}
	n := e.next(op, pos, streamVal{port: ir.Port{Node: g.node}})
	n.Fns = fns
	n.Value = agg
	if e.store(n, storeArg, g.node.KeySerde, val) && g.node.RepartitionName == "" {
		g.node.RepartitionName = n.Store.Name
	}
	return tableVal{node: n}
}

// materialized returns the store a join reads a table through, or reports that
// the table has none.
func (e *evaluator) materialized(opName, side string, t *ir.Node, at token.Pos) *ir.Store {
	if t.Store != nil && ir.EmitsChanges(t) {
		return t.Store
	}
	e.errorf(at, "%s: the %s table is not materialized, so the join cannot look it up: join a table read with Table, made by ToTable, or an unwindowed Count, Reduce or Aggregate", opName, side)
	return nil
}

// sameKeys reports joined sides whose key types differ: they could never match.
func (e *evaluator) sameKeys(opName string, a, b *ir.Node, at token.Pos) bool {
	if types.Identical(a.Key, b.Key) {
		return true
	}
	e.errorf(at, "%s: the sides have different key types, %s and %s: join tables or streams keyed alike (re-key one with SelectKey, or GroupBy)",
		opName, e.typeString(a.Key), e.typeString(b.Key))
	return false
}

// joiner checks a join's function: func(L, R) VR or func(K, L, R) VR, where
// a side that may be absent is a pointer. It returns the function, its result
// type and whether it takes the key.
func (e *evaluator) tableJoiner(opName string, arg ast.Expr, key, left, right types.Type) (*ir.Func, types.Type, bool) {
	f, sig := e.userFunc(opName, arg)
	if f == nil {
		return nil, nil, false
	}
	withKey := e.params(sig, key, left, right)
	if (!withKey && !e.params(sig, left, right)) || sig.Results().Len() != 1 {
		l, r := e.typeString(left), e.typeString(right)
		e.wrongSig(opName, f, fmt.Sprintf("func(%s, %s) joined or func(%s, %s, %s) joined", l, r, e.typeString(key), l, r))
		return nil, nil, false
	}
	return f, sig.Results().At(0).Type(), withKey
}

// streamTableJoin adds a KStream-KTable join: each stream record looks up the
// table's value for its key when it is processed. call.Args are other, joiner and
// the options.
func (e *evaluator) streamTableJoin(s streamVal, t tableVal, kind ir.JoinKind, call *ast.CallExpr, pos token.Pos) value {
	opName := "KStream.Join"
	if kind == ir.LeftJoin {
		opName = "KStream.LeftJoin"
	}
	in := s.port.Node
	store := e.materialized(opName, "joined", t.node, call.Args[0].Pos())
	keysOK := e.sameKeys(opName, in, t.node, call.Args[0].Pos())
	right := t.node.Value
	if kind == ir.LeftJoin {
		right = types.NewPointer(right)
	}
	f, out, withKey := e.tableJoiner(opName, call.Args[1], in.Key, in.Value, right)
	if store == nil || !keysOK || f == nil {
		return nil
	}
	n := e.next(ir.OpStreamTableJoin, pos, s)
	n.Inputs = append(n.Inputs, ir.Port{Node: t.node})
	n.Fns = []*ir.Func{f}
	n.TableJoin = &ir.TableJoin{Kind: kind, Right: store, WithKey: withKey}
	// A stream whose key changed is repartitioned by it first
	// (ir.InsertTableRepartitions), with the serdes of its records.
	if in.KeyChanged && !e.boundary(opName, n, call.Args[2:], pos) {
		return nil
	}
	n.Value, n.KeyChanged = out, false
	return streamVal{port: ir.Port{Node: n}}
}

func (e *evaluator) opTableJoin(kind ir.JoinKind) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		l := recv.(tableVal)
		r, ok := e.eval(call.Args[0]).(tableVal)
		if !ok {
			return nil
		}
		opName := "KTable." + kind.String()
		if l.node == r.node {
			e.errorf(call.Args[0].Pos(), "%s: a table joined with itself: every key matches itself; use MapValues", opName)
			return nil
		}
		ls := e.materialized(opName, "left", l.node, pos)
		rs := e.materialized(opName, "right", r.node, call.Args[0].Pos())
		keysOK := e.sameKeys(opName, l.node, r.node, call.Args[0].Pos())
		lt, rt := l.node.Value, r.node.Value
		if kind != ir.InnerJoin {
			rt = types.NewPointer(rt)
		}
		if kind == ir.OuterJoin {
			lt = types.NewPointer(lt)
		}
		f, out, withKey := e.tableJoiner(opName, call.Args[1], l.node.Key, lt, rt)
		if ls == nil || rs == nil || !keysOK || f == nil {
			return nil
		}
		n := e.nextTable(ir.OpTableJoin, pos, l)
		n.Inputs = append(n.Inputs, r.port())
		n.Fns = []*ir.Func{f}
		n.Value = out
		n.TableJoin = &ir.TableJoin{Kind: kind, Left: ls, Right: rs, WithKey: withKey}
		ls.Timestamped, rs.Timestamped = true, true // the result takes the later row's timestamp
		return tableVal{node: n}
	}
}

func (t tableVal) port() ir.Port { return ir.Port{Node: t.node} }
