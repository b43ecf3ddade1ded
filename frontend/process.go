package frontend

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"
	"time"

	"github.com/gofka/streams/ir"
)

// This file reads KStream.Process: the processor function (or a
// streams.Processor(f).OnTimer(g).Punctuate(...) chain written in place), its
// stores, and checks every function against the stream's types and against
// each other, so that the generated code can call them directly.

const runtimePath = "github.com/gofka/streams/runtime"

// procSig is what a processor's functions share: the types they forward and
// their store parameters.
type procSig struct {
	kout, vout types.Type
	stores     []types.Type // *KeyValueStore[K, V] parameters, in order
}

func (e *evaluator) opProcess(recv value, call *ast.CallExpr, pos token.Pos) value {
	s := recv.(streamVal)
	in := s.port.Node
	n := e.next(ir.OpProcess, pos, s)
	n.Proc = &ir.Processor{}
	spec := e.processorSpec(call.Args[0], n)
	if spec == nil {
		return nil
	}
	want := fmt.Sprintf("func(*streams.ProcessorContext[KOut, VOut], %s, %s, stores...) error", e.typeString(in.Key), e.typeString(in.Value))
	sig, ok := e.procFunc(n.Fns[0], want, in.Key, in.Value)
	if !ok {
		return nil
	}
	if n.Proc.OnTimer != nil {
		twant := fmt.Sprintf("func(*streams.ProcessorContext[%s, %s], streams.Timer[%s], stores...) error", e.typeString(sig.kout), e.typeString(sig.vout), e.typeString(in.Key))
		if ts, ok := e.procFunc(n.Proc.OnTimer, twant, nil); ok {
			e.sameProc("OnTimer", n.Proc.OnTimer, sig, ts)
			if !e.timerParam(n.Proc.OnTimer, in.Key) {
				e.wrongSig("Process OnTimer", n.Proc.OnTimer, twant)
			}
		}
	}
	for _, p := range n.Proc.Punctuators {
		pwant := fmt.Sprintf("func(*streams.ProcessorContext[%s, %s], stores...) error", e.typeString(sig.kout), e.typeString(sig.vout))
		if ps, ok := e.procFunc(p.Fn, pwant); ok {
			e.sameProc("Punctuate", p.Fn, sig, ps)
		}
	}
	e.procStores(n, call, sig)
	if n.Proc.OnTimer != nil || len(n.Proc.Punctuators) > 0 {
		e.timerStore(n, call)
	}
	n.Key, n.Value, n.KeyChanged = sig.kout, sig.vout, true
	return streamVal{port: ir.Port{Node: n}}
}

// processorSpec reads the first argument of Process into n.Fns and n.Proc.
func (e *evaluator) processorSpec(x ast.Expr, n *ir.Node) *ir.Processor {
	call, isCall := ast.Unparen(x).(*ast.CallExpr)
	name, _ := e.callee(call)
	if !isCall || !strings.HasPrefix(name, "Processor") {
		f, _ := e.userFunc("Process", x)
		if f == nil {
			return nil
		}
		n.Fns = []*ir.Func{f}
		return n.Proc
	}
	// Unwind the chain Processor(f).OnTimer(g).Punctuate(...) from the outside in.
	var chain []*ast.CallExpr
	for isCall && name != "Processor" {
		chain = append(chain, call)
		sel, isSel := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !isSel {
			break
		}
		call, isCall = ast.Unparen(sel.X).(*ast.CallExpr)
		name, _ = e.callee(call)
	}
	if !isCall || name != "Processor" || len(call.Args) != 1 {
		e.errorf(x.Pos(), "write the processor in place as streams.Processor(f).OnTimer(g).Punctuate(interval, clock, p)")
		return nil
	}
	f, _ := e.userFunc("Process", call.Args[0])
	if f == nil {
		return nil
	}
	n.Fns = []*ir.Func{f}
	ok := true
	for i := len(chain) - 1; i >= 0; i-- {
		ok = e.specStep(chain[i], n) && ok
	}
	if !ok {
		return nil
	}
	return n.Proc
}

// specStep reads one OnTimer or Punctuate call of a processor spec.
func (e *evaluator) specStep(c *ast.CallExpr, n *ir.Node) bool {
	switch name, _ := e.callee(c); {
	case name == "ProcessorSpec.OnTimer" && len(c.Args) == 1:
		if n.Proc.OnTimer != nil {
			e.errorf(c.Pos(), "Process: OnTimer is given twice")
			return false
		}
		f, _ := e.userFunc("Process OnTimer", c.Args[0])
		n.Proc.OnTimer = f
		n.Fns = append(n.Fns, f)
		return f != nil
	case name == "ProcessorSpec.Punctuate" && len(c.Args) == 3:
		tv := e.Info.Types[c.Args[0]]
		iv, exact := int64(0), false
		if tv.Value != nil && tv.Value.Kind() == constant.Int {
			iv, exact = constant.Int64Val(tv.Value)
		}
		ms := time.Duration(iv).Milliseconds()
		if !exact || ms <= 0 || time.Duration(iv)%time.Millisecond != 0 {
			e.errorf(c.Args[0].Pos(), "Process Punctuate: the interval must be a constant whole number of milliseconds, at least 1ms")
			return false
		}
		clock := e.Info.Types[c.Args[1]]
		if clock.Value == nil {
			e.errorf(c.Args[1].Pos(), "Process Punctuate: the clock must be streams.StreamTime or streams.WallClockTime")
			return false
		}
		wall, _ := constant.Int64Val(clock.Value)
		f, _ := e.userFunc("Process Punctuate", c.Args[2])
		if f == nil {
			return false
		}
		n.Proc.Punctuators = append(n.Proc.Punctuators, ir.Punctuator{Fn: f, IntervalMs: ms, WallClock: wall == 1})
		n.Fns = append(n.Fns, f)
		return true
	}
	e.errorf(c.Pos(), "write the processor in place as streams.Processor(f).OnTimer(g).Punctuate(interval, clock, p)")
	return false
}

// procFunc checks a processor, timer or punctuator function: a context first,
// then the given parameters (nil: any one), then store parameters, returning
// error. It reports a mismatch against want.
func (e *evaluator) procFunc(f *ir.Func, want string, params ...types.Type) (procSig, bool) {
	sig := f.Sig
	var ps procSig
	ok := sig.Params().Len() >= 1+len(params) && !sig.Variadic() && e.results(sig, types.Universe.Lookup("error").Type())
	if ok {
		ps.kout, ps.vout, ok = contextTypes(sig.Params().At(0).Type())
	}
	for i, p := range params {
		if ok && p != nil && !types.Identical(sig.Params().At(1+i).Type(), p) {
			ok = false
		}
	}
	if !ok {
		e.wrongSig("Process", f, want)
		return ps, false
	}
	for i := 1 + len(params); i < sig.Params().Len(); i++ {
		ps.stores = append(ps.stores, sig.Params().At(i).Type())
	}
	return ps, true
}

// timerParam reports whether f's second parameter is streams.Timer[key].
func (e *evaluator) timerParam(f *ir.Func, key types.Type) bool {
	n, ok := types.Unalias(f.Sig.Params().At(1).Type()).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == runtimePath && n.Obj().Name() == "Timer" &&
		n.TypeArgs().Len() == 1 && types.Identical(n.TypeArgs().At(0), key)
}

// contextTypes returns KOut and VOut of a *streams.ProcessorContext[KOut, VOut].
func contextTypes(t types.Type) (kout, vout types.Type, ok bool) {
	args, ok := runtimeGeneric(t, "ProcessorContext")
	if !ok {
		return nil, nil, false
	}
	return args.At(0), args.At(1), true
}

// runtimeGeneric returns the type arguments of a pointer to the two-parameter
// generic type name of the runtime package (which the DSL names by aliases).
func runtimeGeneric(t types.Type, name string) (*types.TypeList, bool) {
	p, ok := types.Unalias(t).(*types.Pointer)
	if !ok {
		return nil, false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != runtimePath || n.Obj().Name() != name || n.TypeArgs().Len() != 2 {
		return nil, false
	}
	return n.TypeArgs(), true
}

// sameProc reports a timer or punctuator function whose context or stores
// differ from the processor function's: they forward into the same stream and
// share its stores.
func (e *evaluator) sameProc(what string, f *ir.Func, want, got procSig) {
	if !types.Identical(want.kout, got.kout) || !types.Identical(want.vout, got.vout) {
		e.errs = append(e.errs, ir.Errorf(f.Pos, "Process %s: %s forwards key %s and value %s, but the processor function forwards key %s and value %s",
			what, f.Display, e.typeString(got.kout), e.typeString(got.vout), e.typeString(want.kout), e.typeString(want.vout)))
	}
	same := len(want.stores) == len(got.stores)
	for i := 0; same && i < len(want.stores); i++ {
		same = types.Identical(want.stores[i], got.stores[i])
	}
	if !same {
		e.errs = append(e.errs, ir.Errorf(f.Pos, "Process %s: %s takes stores %s, but the processor function takes %s: they share the processor's stores, in the same order",
			what, f.Display, e.typeList(got.stores), e.typeList(want.stores)))
	}
}

func (e *evaluator) typeList(ts []types.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = e.typeString(t)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// procStores makes the stores listed after the processor, each typed by the
// processor function's parameter in its place.
func (e *evaluator) procStores(n *ir.Node, call *ast.CallExpr, sig procSig) {
	listed := call.Args[1:]
	if len(listed) != len(sig.stores) {
		e.errs = append(e.errs, ir.Errorf(e.pos(call.Rparen), "Process: %s takes %d store(s) after the record, but %d are listed: list one streams.RocksDBStore or InMemoryStore per *streams.KeyValueStore parameter, in order",
			n.Fns[0].Display, len(sig.stores), len(listed)))
	}
	for i, x := range listed {
		if i >= len(sig.stores) {
			break
		}
		args, ok := runtimeGeneric(sig.stores[i], "ProcessorStore")
		if !ok {
			e.errs = append(e.errs, ir.Errorf(n.Fns[0].Pos, "Process: store parameter %d of %s has type %s, want *streams.KeyValueStore[K, V]",
				i+1, n.Fns[0].Display, e.typeString(sig.stores[i])))
			continue
		}
		key := e.defaultSerde("Process", "store key", args.At(0), x.Pos())
		val := e.defaultSerde("Process", "store value", args.At(1), x.Pos())
		tmp := &ir.Node{Op: ir.OpProcess, Pos: n.Pos}
		if e.store(tmp, x, key, val) {
			tmp.Store.Node = n
			n.Proc.Stores = append(n.Proc.Stores, tmp.Store)
		}
	}
}

// timerStore adds the store of a processor's timers and punctuation schedules,
// named after its first store, or else its function.
func (e *evaluator) timerStore(n *ir.Node, call *ast.CallExpr) {
	if n.Proc.OnTimer != nil { // timers are kept by encoded key
		n.Proc.KeySerde = e.defaultSerde("Process OnTimer", "key", n.Inputs[0].Node.Key, call.Pos())
	}
	var base string
	switch {
	case len(n.Proc.Stores) > 0:
		base = n.Proc.Stores[0].Name
	case !n.Fns[0].Literal && !strings.ContainsAny(n.Fns[0].Display, ".[("):
		base = kebab(n.Fns[0].Display)
	default:
		e.errorf(call.Args[0].Pos(), "Process: a processor with timers and no store is named after its function: pass a named function, or list a store")
		return
	}
	name := base + "-timers"
	if first, dup := e.stores[name]; dup {
		e.errorf(call.Args[0].Pos(), "Process: the timer store %q is already a store's name (at %s)", name, first)
		return
	}
	e.stores[name] = n.Pos
	b := bytesSerde()
	s := &ir.Store{Name: name, Pos: n.Pos, Persistent: true, Key: b.Type, Value: b.Type, KeySerde: b, ValueSerde: b, Node: n}
	n.Proc.Timers = s
	e.g.Stores = append(e.g.Stores, s)
}
