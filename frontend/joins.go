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

// Joins. KStream.Join, LeftJoin and OuterJoin take the other side as any:
// joinOther dispatches on what it evaluates to, a stream (a windowed
// stream-stream join, here) or a table (streamTableJoin). A stream-stream join
// reads its JoinWindows among its options, checks the keys and the joiner,
// repartitions a side whose key changed, and adds one Join node with its three
// stores (ir/join.go).

type joinWindowsVal struct{ before, after, grace time.Duration }

func (e *evaluator) joinOps(ops map[string]opFunc) {
	ops["KStream.Join"] = e.opJoin(ir.InnerJoin)
	ops["KStream.LeftJoin"] = e.opJoin(ir.LeftJoin)
	ops["KStream.OuterJoin"] = e.opJoin(ir.OuterJoin)
	ops["JoinWindows"] = e.opJoinWindows
	ops["JoinWindowsOf"] = e.opJoinWindowsOf
	ops["JoinWindowsSpec.Grace"] = e.opJoinGrace
}

func (e *evaluator) opJoin(kind ir.JoinKind) opFunc {
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		return e.joinOther(kind, recv.(streamVal), call, pos)
	}
}

// joinOther dispatches a join on the kind of its other side.
func (e *evaluator) joinOther(kind ir.JoinKind, s streamVal, call *ast.CallExpr, pos token.Pos) value {
	switch o := e.eval(call.Args[0]).(type) {
	case streamVal:
		return e.streamJoin(kind, s, o, call, pos)
	case tableVal:
		return e.streamTableJoin(s, o, kind, call, pos)
	case nil:
		return nil // reported
	}
	e.errorf(call.Args[0].Pos(), "%s: the other side must be a *streams.KStream or a *streams.KTable", kind)
	return nil
}

func (e *evaluator) opJoinWindows(_ value, call *ast.CallExpr, pos token.Pos) value {
	before, bok := e.duration("JoinWindows", "before", call.Args[0], true)
	after, aok := e.duration("JoinWindows", "after", call.Args[1], true)
	if !bok || !aok {
		return nil
	}
	return joinWindowsVal{before: before, after: after}
}

func (e *evaluator) opJoinWindowsOf(_ value, call *ast.CallExpr, pos token.Pos) value {
	d, ok := e.duration("JoinWindowsOf", "the time difference", call.Args[0], true)
	if !ok {
		return nil
	}
	return joinWindowsVal{before: d, after: d}
}

func (e *evaluator) opJoinGrace(recv value, call *ast.CallExpr, pos token.Pos) value {
	w := recv.(joinWindowsVal)
	d, ok := e.duration("Grace", "the grace period", call.Args[0], true)
	if !ok {
		return nil
	}
	w.grace = d
	return w
}

// joinOptions reads a join's options: its window and its name.
func (e *evaluator) joinOptions(kind ir.JoinKind, opts []ast.Expr) (w *joinWindowsVal, named string, ok bool) {
	ok = true
	for _, o := range opts {
		call, isCall := ast.Unparen(o).(*ast.CallExpr)
		if isCall {
			if tv := e.Info.Types[call.Fun]; tv.IsType() && isStreamsType(tv.Type, "Named", false) && len(call.Args) == 1 {
				c := e.Info.Types[call.Args[0]]
				if c.Value == nil || c.Value.Kind() != constant.String {
					e.errorf(o.Pos(), "streams.Named takes a constant string")
					ok = false
					continue
				}
				named = constant.StringVal(c.Value)
				continue
			}
			if tv := e.Info.Types[o]; tv.Type != nil && isStreamsType(tv.Type, "JoinWindowsSpec", false) {
				jw, wok := e.eval(o).(joinWindowsVal)
				if !wok {
					ok = false // reported
					continue
				}
				w = &jw
				continue
			}
		}
		e.errorf(o.Pos(), "%s: option must be streams.JoinWindows(before, after) (or JoinWindowsOf), optionally with .Grace(d), or streams.Named(\"name\"), written in place", kind)
		ok = false
	}
	return w, named, ok
}

// joinerWant is the joiner signature a join of kind needs, for messages.
func (e *evaluator) joinerWant(kind ir.JoinKind, k, v1, v2 types.Type) string {
	l, r := e.typeString(v1), e.typeString(v2)
	switch kind {
	case ir.LeftJoin:
		r = "*" + r
	case ir.OuterJoin:
		l, r = "*"+l, "*"+r
	}
	return fmt.Sprintf("func(%s, %s) result or func(%s, %s, %s) result", l, r, e.typeString(k), l, r)
}

// joiner checks a join's joiner against the kind and the sides' types and
// returns it with its result type.
func (e *evaluator) joiner(kind ir.JoinKind, arg ast.Expr, k, v1, v2 types.Type) (*ir.Func, types.Type) {
	f, sig := e.userFunc(kind.String(), arg)
	if f == nil {
		return nil, nil
	}
	l, r := v1, v2
	switch kind {
	case ir.LeftJoin:
		r = types.NewPointer(v2)
	case ir.OuterJoin:
		l, r = types.NewPointer(v1), types.NewPointer(v2)
	}
	if (!e.params(sig, l, r) && !e.params(sig, k, l, r)) || sig.Results().Len() != 1 {
		e.wrongSig(kind.String(), f, e.joinerWant(kind, k, v1, v2))
		return nil, nil
	}
	return f, sig.Results().At(0).Type()
}

func (e *evaluator) streamJoin(kind ir.JoinKind, s, o streamVal, call *ast.CallExpr, pos token.Pos) value {
	left, right := s.port.Node, o.port.Node
	w, named, optsOK := e.joinOptions(kind, call.Args[2:])
	keysOK := types.Identical(left.Key, right.Key)
	if !keysOK {
		e.errorf(call.Args[0].Pos(), "%s: the streams have different key types: this one %s, the other %s; records join by equal keys, so re-key one side first (SelectKey or Map)",
			kind, e.typeString(left.Key), e.typeString(right.Key))
	}
	if w == nil && optsOK {
		e.errorf(pos, "%s of two streams needs a join window, as both sides are buffered only that long: add the option streams.JoinWindows(before, after) or streams.JoinWindowsOf(d)", kind)
	}
	f, result := e.joiner(kind, call.Args[1], left.Key, left.Value, right.Value)
	if f == nil || w == nil || !keysOK || !optsOK {
		return nil
	}
	if named == "" {
		named = fmt.Sprintf("join-%d", e.joinCount())
	}
	lp := e.copartitioned(s.port, named+"-left", pos)
	rp := e.copartitioned(o.port, named+"-right", pos)
	n := e.g.NewNode(ir.OpJoin, e.pos(pos), lp, rp)
	n.Key, n.Value = left.Key, result
	n.Fns = []*ir.Func{f}
	j := &ir.Join{Kind: kind, Before: w.before, After: w.after, Grace: w.grace}
	j.KeySerde = e.upstreamSerde(left, true, pos)
	j.LeftSerde = e.upstreamSerde(left, false, pos)
	j.RightSerde = e.upstreamSerde(right, false, pos)
	if j.KeySerde == nil || j.LeftSerde == nil || j.RightSerde == nil {
		return nil // reported
	}
	n.Join = j
	j.This = e.joinStore(n, named+"-this", left.Value, j.LeftSerde, pos)
	j.Other = e.joinStore(n, named+"-other", right.Value, j.RightSerde, pos)
	if kind != ir.InnerJoin {
		j.Outer = e.joinStore(n, named+"-outer", bytesType, bytesSerde(), pos)
	}
	for _, st := range j.Stores() {
		if st == nil {
			return nil // reported
		}
	}
	return streamVal{port: ir.Port{Node: n}}
}

// joinCount is the number of joins built so far, which numbers the default names.
func (e *evaluator) joinCount() int {
	c := 0
	for _, n := range e.g.Nodes {
		if n.Op == ir.OpJoin {
			c++
		}
	}
	return c
}

// copartitioned returns p, or a repartition of it when its key may have
// changed: a join reads both sides by the key they are partitioned by.
func (e *evaluator) copartitioned(p ir.Port, name string, pos token.Pos) ir.Port {
	in := p.Node
	if !in.KeyChanged {
		return p
	}
	r := e.g.NewNode(ir.OpRepartition, e.pos(pos), p)
	r.Key, r.Value = in.Key, in.Value
	r.KeySerde = e.upstreamSerde(in, true, pos)
	r.ValueSerde = e.upstreamSerde(in, false, pos)
	r.RepartitionName = name
	e.encodable("Join", "key", r.KeySerde, r.Pos)
	e.encodable("Join", "value", r.ValueSerde, r.Pos)
	return ir.Port{Node: r}
}

// upstreamSerde is the serde of n's key (or value) type: the one the nearest
// boundary upstream used for that type, so a join stores records as its
// source decoded them, else the default for the type.
func (e *evaluator) upstreamSerde(n *ir.Node, key bool, pos token.Pos) *ir.Serde {
	t := n.Value
	if key {
		t = n.Key
	}
	for c := n; c != nil; {
		s := c.ValueSerde
		if key {
			s = c.KeySerde
		}
		if s != nil && types.Identical(s.Type, t) {
			return s
		}
		if len(c.Inputs) != 1 {
			break
		}
		c = c.Inputs[0].Node
	}
	side := "value"
	if key {
		side = "key"
	}
	return e.defaultSerde("Join", side, t, pos)
}

// joinStore adds one of a join's stores, persistent and changelogged.
func (e *evaluator) joinStore(n *ir.Node, name string, value types.Type, vs *ir.Serde, pos token.Pos) *ir.Store {
	if err := ir.CheckTopicName(name); err != nil {
		e.errorf(pos, "%s: its store name is used in a changelog topic's name: %v", n.Join.Kind, err)
		return nil
	}
	if first, dup := e.stores[name]; dup {
		e.errorf(pos, "%s: its store is named %q, which the store at %s already uses: give the join another streams.Named", n.Join.Kind, name, first)
		return nil
	}
	e.stores[name] = e.pos(pos)
	s := &ir.Store{Name: name, Pos: e.pos(pos), Persistent: true, Key: n.Key, Value: value, KeySerde: n.Join.KeySerde, ValueSerde: vs, Node: n}
	e.g.Stores = append(e.g.Stores, s)
	return s
}
