package frontend

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"

	"github.com/gofka/streams/ir"
)

// userFunc resolves a function argument: a named function (of any package), a
// method expression, a method of a package-level variable, or a function literal
// that captures nothing. It reports a problem and returns nil otherwise.
func (e *evaluator) userFunc(opName string, arg ast.Expr) (*ir.Func, *types.Signature) {
	tv, ok := e.Info.Types[arg]
	if !ok || tv.Type == nil {
		return nil, nil
	}
	sig, ok := tv.Type.Underlying().(*types.Signature)
	if !ok {
		if tv.IsNil() {
			e.errorf(arg.Pos(), "%s: the function is nil", opName)
		} else {
			e.errorf(arg.Pos(), "%s: %s has type %s, not a function type", opName, types.ExprString(arg), e.typeString(tv.Type))
		}
		return nil, nil
	}
	f := &ir.Func{Pos: e.pos(arg.Pos()), Sig: sig, Display: types.ExprString(arg)}
	switch a := ast.Unparen(arg).(type) {
	case *ast.FuncLit:
		f.Literal = true
		f.Display = fmt.Sprintf("func literal at %s:%d:%d", filepath.Base(f.Pos.Filename), f.Pos.Line, f.Pos.Column)
	case *ast.Ident:
		if v, ok := e.Info.Uses[a].(*types.Var); ok && v.Parent() != e.Types.Scope() {
			e.errorf(arg.Pos(), "%s: %s is a local variable: gofkagen cannot know which function it holds without running the topology; pass a named function, a method expression or a function literal", opName, a.Name)
			return nil, nil
		}
	case *ast.SelectorExpr, *ast.IndexExpr, *ast.IndexListExpr:
		// qualified names, method expressions, methods of package-level variables and
		// generic instantiations; captures are checked below
	default:
		e.errorf(arg.Pos(), "%s: pass a named function, a method expression or a function literal; %s is computed at run time", opName, types.ExprString(arg))
		return nil, nil
	}
	if !e.noCaptures(opName, arg) {
		return nil, nil
	}
	code, err := e.code(arg)
	if err != nil {
		e.errorf(arg.Pos(), "%s: %v", opName, err)
		return nil, nil
	}
	f.Code = code
	return f, sig
}

// noCaptures reports (and returns false for) references from x to variables,
// constants or functions declared inside the topology function: the generated code
// runs x outside that function, where they do not exist.
func (e *evaluator) noCaptures(what string, x ast.Expr) bool {
	type capture struct {
		name string
		pos  token.Pos
	}
	var caps []capture
	seen := map[types.Object]bool{}
	ast.Inspect(x, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := e.Info.Uses[id]
		if obj == nil || seen[obj] {
			return true
		}
		declared := obj.Pos()
		inTopology := declared >= e.fd.Pos() && declared < e.fd.End()
		inX := declared >= x.Pos() && declared < x.End()
		if inTopology && !inX {
			seen[obj] = true
			caps = append(caps, capture{id.Name, declared})
		}
		return true
	})
	for _, c := range caps {
		p := e.pos(c.pos)
		kind := "function literal"
		if _, lit := ast.Unparen(x).(*ast.FuncLit); !lit {
			kind = "argument"
		}
		e.errorf(x.Pos(), "%s: %s captures %s (declared at line %d): the generated code calls it outside the topology function, so it may use only its parameters and package-level names", what, kind, c.name, p.Line)
	}
	return len(caps) == 0
}

// code copies the source of x, keeping references to imported packages apart so
// that codegen can import them itself.
func (e *evaluator) code(x ast.Expr) (ir.Code, error) {
	type qual struct {
		from, to  token.Pos
		pkg, name string
	}
	var quals []qual
	ast.Inspect(x, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok {
			if pn, ok := e.Info.Uses[id].(*types.PkgName); ok {
				quals = append(quals, qual{sel.Pos(), sel.End(), pn.Imported().Path(), sel.Sel.Name})
				return false
			}
		}
		return true
	})
	sort.Slice(quals, func(i, j int) bool { return quals[i].from < quals[j].from })
	var code ir.Code
	at := x.Pos()
	for _, q := range quals {
		text, err := e.src.text(e.Fset, at, q.from)
		if err != nil {
			return nil, err
		}
		if text != "" {
			code = append(code, ir.Fragment{Text: text})
		}
		code = append(code, ir.Fragment{Pkg: q.pkg, Name: q.name})
		at = q.to
	}
	text, err := e.src.text(e.Fset, at, x.End())
	if err != nil {
		return nil, err
	}
	if text != "" {
		code = append(code, ir.Fragment{Text: text})
	}
	return code, nil
}

// topic reads a constant topic name and checks it against Kafka's rules.
func (e *evaluator) topic(x ast.Expr) (string, bool) {
	tv := e.Info.Types[x]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		e.errorf(x.Pos(), "topic name must be a constant string: gofkagen reads it without running the program")
		return "", false
	}
	name := constant.StringVal(tv.Value)
	if err := ir.CheckTopicName(name); err != nil {
		e.errorf(x.Pos(), "%v", err)
		return "", false
	}
	return name, true
}

// sourceTopic reads a source topic name; a topology reads each topic once (fan a
// stream out to use it twice), as Kafka Streams requires.
func (e *evaluator) sourceTopic(x ast.Expr) (string, bool) {
	name, ok := e.topic(x)
	if !ok {
		return "", false
	}
	if first, dup := e.sources[name]; dup {
		e.errorf(x.Pos(), "topic %q is already read at %s: read a topic once and use the stream twice", name, first)
		return "", false
	}
	e.sources[name] = e.pos(x.Pos())
	return name, true
}

// cycles reports each sink that writes to a topic the topology reads: every record
// written there would be read again, a loop through Kafka that never ends.
func (e *evaluator) cycles() {
	for _, n := range e.g.Nodes {
		if n.Op != ir.OpSink {
			continue
		}
		for _, t := range n.Topics {
			if src, ok := e.sources[t.Name]; ok {
				e.errs = append(e.errs, ir.Errorf(n.Pos, "To: topic %q is this topology's input (read at %s): writing to it would feed every record back in, a loop through Kafka", t.Name, src))
			}
		}
	}
}

// withSerdes reads a streams.With(keySerde, valueSerde) call written in place.
func (e *evaluator) withSerdes(x ast.Expr) (key, val *ir.Serde, ok bool) {
	call, isCall := ast.Unparen(x).(*ast.CallExpr)
	if name, _ := e.callee(call); !isCall || name != "With" {
		e.errorf(x.Pos(), "write the serdes in place as streams.With(keySerde, valueSerde)")
		return nil, nil, false
	}
	inst, found := e.Info.Instances[calledIdent(call)]
	if !found || inst.TypeArgs.Len() != 2 || len(call.Args) != 2 {
		e.errorf(x.Pos(), "cannot tell the serdes' types")
		return nil, nil, false
	}
	key = e.serde(call.Args[0], inst.TypeArgs.At(0))
	val = e.serde(call.Args[1], inst.TypeArgs.At(1))
	return key, val, key != nil && val != nil
}

// serde makes a serde from a user expression, which the generated code evaluates
// once, at package initialisation.
func (e *evaluator) serde(x ast.Expr, t types.Type) *ir.Serde {
	if call, ok := ast.Unparen(x).(*ast.CallExpr); ok && len(call.Args) == 0 {
		// The streams package's own constructors are the default serdes by another name.
		if name, ok := e.callee(call); ok && builtinConstructors[name] {
			if d := ir.DefaultSerde(t); d != nil && (name == "JSON") == (d.Builtin == "JSONSerde") {
				return d
			}
			if name == "JSON" {
				return &ir.Serde{Type: t, Builtin: "JSONSerde"}
			}
		}
	}
	if !e.noCaptures("serde", x) {
		return nil
	}
	code, err := e.code(x)
	if err != nil {
		e.errorf(x.Pos(), "serde: %v", err)
		return nil
	}
	var id *ast.Ident
	switch v := ast.Unparen(x).(type) {
	case *ast.Ident:
		id = v
	case *ast.SelectorExpr:
		if e.Info.Selections[v] == nil {
			id = v.Sel // a qualified identifier
		}
	}
	_, isVar := e.Info.Uses[id].(*types.Var)
	return &ir.Serde{Type: t, Code: code, Variable: id != nil && isVar, SerdeType: e.Info.Types[x].Type}
}

// options reads the options of a boundary step: at most one streams.With, whose
// types must be key and value, and at most one streams.Named. opName is the step;
// Named names an internal repartition topic, so on a step that has none (a sink,
// an aggregation) it is reported rather than silently ignored.
func (e *evaluator) options(opName string, opts []ast.Expr, key, val types.Type) (ks, vs *ir.Serde, named string, ok bool) {
	ok = true
	for _, o := range opts {
		o = ast.Unparen(o)
		if call, isCall := o.(*ast.CallExpr); isCall {
			if tv := e.Info.Types[call.Fun]; tv.IsType() && isStreamsType(tv.Type, "Named", false) && len(call.Args) == 1 {
				c := e.Info.Types[call.Args[0]]
				if c.Value == nil || c.Value.Kind() != constant.String {
					e.errorf(o.Pos(), "streams.Named takes a constant string")
					ok = false
					continue
				}
				if !namesRepartition(opName) {
					e.errorf(o.Pos(), "streams.Named has no effect on %s: it names the repartition topic of Repartition, GroupByKey or GroupBy (a sink writes the topic it is given; a store takes its name from RocksDBStore or InMemoryStore)", opName)
					ok = false
					continue
				}
				named = constant.StringVal(c.Value)
				if err := ir.CheckTopicName(named); err != nil {
					e.errorf(o.Pos(), "%v", err)
					ok = false
				}
				continue
			}
			if name, _ := e.callee(call); name == "With" {
				k, v, wok := e.withSerdes(call)
				if !wok {
					ok = false
					continue
				}
				if !types.Identical(k.Type, key) || !types.Identical(v.Type, val) {
					e.errorf(o.Pos(), "these serdes are for key %s and value %s, but the records here have key %s and value %s",
						e.typeString(k.Type), e.typeString(v.Type), e.typeString(key), e.typeString(val))
					ok = false
					continue
				}
				ks, vs = k, v
				continue
			}
		}
		if windowOption(e, o) {
			e.errorf(o.Pos(), "%s: %s is an option of a windowed aggregation (after WindowedBy)", opName, types.ExprString(o))
			ok = false
			continue
		}
		e.errorf(o.Pos(), "option must be streams.With(keySerde, valueSerde) or streams.Named(\"name\"), written in place")
		ok = false
	}
	return ks, vs, named, ok
}

// namesRepartition reports whether a step of this name may repartition, and so
// takes a streams.Named for its repartition topic.
func namesRepartition(opName string) bool {
	return opName == "Repartition" || opName == "GroupByKey" || opName == "GroupBy"
}

// store reads streams.RocksDBStore("name") or streams.InMemoryStore("name") written
// in place, and attaches the store to n. It checks the name even when a serde is
// missing (nil, after an error), but then attaches no store.
func (e *evaluator) store(n *ir.Node, x ast.Expr, key, val *ir.Serde) bool {
	call, isCall := ast.Unparen(x).(*ast.CallExpr)
	name, _ := e.callee(call)
	if !isCall || (name != "RocksDBStore" && name != "InMemoryStore") || len(call.Args) != 1 {
		e.errorf(x.Pos(), "write the store in place as streams.RocksDBStore(\"name\") or streams.InMemoryStore(\"name\")")
		return false
	}
	tv := e.Info.Types[call.Args[0]]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		e.errorf(call.Args[0].Pos(), "store name must be a constant string")
		return false
	}
	storeName := constant.StringVal(tv.Value)
	if err := ir.CheckTopicName(storeName); err != nil {
		e.errorf(call.Args[0].Pos(), "store name is used in its changelog topic's name: %v", err)
		return false
	}
	if first, dup := e.stores[storeName]; dup {
		e.errorf(call.Args[0].Pos(), "duplicate store name %q (first used at %s): every store needs its own name", storeName, first)
		return false
	}
	e.stores[storeName] = e.pos(call.Args[0].Pos())
	if key == nil || val == nil {
		return false // a serde was wrong, and reported
	}
	side := "aggregate"
	if n.Op == ir.OpTable {
		side = "value"
	}
	e.encodable(n.Op.String(), "key", key, n.Pos)
	e.encodable(n.Op.String(), side, val, n.Pos)
	s := &ir.Store{
		Name: storeName, Pos: e.pos(call.Args[0].Pos()), Persistent: name == "RocksDBStore",
		Key: key.Type, Value: val.Type, KeySerde: key, ValueSerde: val, Node: n,
	}
	n.Store = s
	e.g.Stores = append(e.g.Stores, s)
	return true
}

// builtinConstructors are the streams functions that return a built-in serde.
var builtinConstructors = map[string]bool{
	"String": true, "Bytes": true, "Int64": true, "Int32": true, "Int": true, "Uint64": true,
	"Float64": true, "Float32": true, "Bool": true, "JSON": true,
}
