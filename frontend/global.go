package frontend

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"github.com/gofka/streams/ir"
)

// globalVal is a global table (streams.GlobalKTable): no node of the graph, only
// the table side of the joins that look keys up in it (ir.Global).
type globalVal struct{ global *ir.Global }

// globalOps adds the global table calls to the table of DSL calls.
func (e *evaluator) globalOps(ops map[string]opFunc) {
	ops["StreamsBuilder.GlobalTable"] = e.opGlobalTable
	ops["KStream.JoinGlobal"] = e.opJoinGlobal(ir.OpJoinGlobal)
	ops["KStream.LeftJoinGlobal"] = e.opJoinGlobal(ir.OpLeftGlobal)
}

// opGlobalTable reads b.GlobalTable(serdes, topic, store).
func (e *evaluator) opGlobalTable(_ value, call *ast.CallExpr, pos token.Pos) value {
	key, val, ok := e.withSerdes(call.Args[0])
	topic, tok := e.sourceTopic(call.Args[1])
	if !ok || !tok {
		return nil
	}
	// store checks the store's name and serdes as for any table, and registers
	// it as a task's store with a changelog: a global table's store belongs to
	// the replica, and its topic is its changelog, so it is taken back out.
	placeholder := &ir.Node{Op: ir.OpTable, Pos: e.pos(pos)}
	if !e.store(placeholder, call.Args[2], key, val) {
		return nil
	}
	e.g.Stores = e.g.Stores[:len(e.g.Stores)-1]
	s := placeholder.Store
	gt := &ir.Global{
		Index: len(e.g.Globals), Name: s.Name, Pos: e.pos(pos), Topic: &ir.Topic{Name: topic},
		Persistent: s.Persistent, Key: key.Type, Value: val.Type, KeySerde: key, ValueSerde: val,
	}
	e.g.Globals = append(e.g.Globals, gt)
	return globalVal{global: gt}
}

// opJoinGlobal reads s.JoinGlobal(table, keySelector, joiner) and
// s.LeftJoinGlobal(...): keySelector func(K, V) KG must give the table's key
// type; joiner is func(V, VG) VR or func(K, V, VG) VR, with *VG in a left join.
// The result keeps the stream's key.
func (e *evaluator) opJoinGlobal(op ir.Op) opFunc {
	name := "JoinGlobal"
	if op == ir.OpLeftGlobal {
		name = "LeftJoinGlobal"
	}
	return func(recv value, call *ast.CallExpr, pos token.Pos) value {
		s := recv.(streamVal)
		in := s.port.Node
		gv, ok := e.eval(call.Args[0]).(globalVal)
		if !ok {
			return nil // reported by eval, or the type checker
		}
		for _, o := range call.Args[3:] {
			e.errorf(o.Pos(), "%s takes no options: the result keeps the stream's key and its serdes are chosen where it is written", name)
		}
		gt := gv.global
		sel := e.keySelector(name, in, gt, call.Args[1])
		row := gt.Value
		if op == ir.OpLeftGlobal {
			row = types.NewPointer(gt.Value) // nil when the table has no row
		}
		joiner, jsig := e.userFunc(name, call.Args[2])
		if joiner == nil || sel == nil {
			return nil
		}
		if (!e.params(jsig, in.Value, row) && !e.params(jsig, in.Key, in.Value, row)) || jsig.Results().Len() != 1 {
			v, r := e.typeString(in.Value), e.typeString(row)
			e.wrongSig(name, joiner, fmt.Sprintf("func(%s, %s) joined or func(%s, %s, %s) joined", v, r, e.typeString(in.Key), v, r))
			if jsig.Results().Len() != 1 {
				return nil
			}
			// Its result still says what the rest of the chain receives.
		}
		n := e.next(op, pos, s)
		n.Fns = []*ir.Func{sel, joiner}
		n.Value = jsig.Results().At(0).Type()
		n.Global = gt
		return streamVal{port: ir.Port{Node: n}}
	}
}

// keySelector checks a global join's key selector: func(K, V) KG, where KG is
// the global table's key type. It returns the function, nil if it could not be
// resolved.
func (e *evaluator) keySelector(opName string, in *ir.Node, gt *ir.Global, arg ast.Expr) *ir.Func {
	f, sig := e.userFunc(opName, arg)
	if f == nil {
		return nil
	}
	if !e.params(sig, in.Key, in.Value) || sig.Results().Len() != 1 {
		e.wrongSig(opName, f, fmt.Sprintf("func(%s, %s) %s, the key selector", e.typeString(in.Key), e.typeString(in.Value), e.typeString(gt.Key)))
		return f
	}
	if got := sig.Results().At(0).Type(); !types.Identical(got, gt.Key) {
		e.errs = append(e.errs, ir.Errorf(f.Pos, "%s: key selector %s returns %s, but global table %s has keys of type %s",
			opName, f.Display, e.typeString(got), gt.Name, e.typeString(gt.Key)))
	}
	return f
}
