package frontend

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"github.com/gofka/streams/ir"
)

// Values the evaluator tracks for DSL variables and expressions.
type (
	value       any
	builderVal  struct{}
	topologyVal struct{}
	streamVal   struct {
		port ir.Port
		seed bool // the seed API's *Stream, of []byte keys and values
	}
	groupedVal struct {
		node *ir.Node
		seed bool
	}
	tableVal    struct{ node *ir.Node }
	branchesVal struct{ node *ir.Node }
)

// evaluator walks one topology function's body without running it.
type evaluator struct {
	*compiler
	g        *ir.Graph
	fd       *ast.FuncDecl
	env      map[types.Object]value
	assigned map[types.Object]bool
	builder  bool // a builder exists
	built    bool // Build was called
	// sources and stores record where each source topic and store name was first
	// used: a topic is read once per topology, and a store name names one store.
	sources map[string]token.Position
	stores  map[string]token.Position
	retErr  bool // a return statement was already reported
}

func (e *evaluator) pos(p token.Pos) token.Position { return e.Fset.Position(p) }

func (e *evaluator) block(stmts []ast.Stmt) {
	for _, s := range stmts {
		e.stmt(s)
	}
}

func (e *evaluator) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		e.assign(s)
	case *ast.DeclStmt:
		e.decl(s)
	case *ast.ExprStmt:
		if e.mentionsDSL(s.X) {
			e.eval(s.X)
		}
	case *ast.ReturnStmt:
		e.ret(s)
	case *ast.BlockStmt:
		e.block(s.List)
	case *ast.EmptyStmt:
	default:
		if e.mentionsDSL(s) {
			e.errorf(s.Pos(), "builder calls inside %s are not statically resolvable: gofkagen reads the topology without running it, so build it with straight-line code (no loops, conditions, goroutines or deferred calls)", stmtKind(s))
		}
	}
}

func stmtKind(s ast.Stmt) string {
	switch s.(type) {
	case *ast.IfStmt:
		return "an if statement"
	case *ast.ForStmt, *ast.RangeStmt:
		return "a loop"
	case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		return "a switch"
	case *ast.GoStmt:
		return "a go statement"
	case *ast.DeferStmt:
		return "a defer statement"
	case *ast.LabeledStmt:
		return "a labeled statement"
	}
	return "this statement"
}

// mentionsDSL reports whether a piece of syntax touches a DSL value.
func (e *evaluator) mentionsDSL(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if found {
			return false
		}
		switch x := n.(type) {
		case *ast.Ident:
			if obj := e.Info.Uses[x]; obj != nil {
				if _, ok := e.env[obj]; ok || isDSLType(obj.Type()) {
					found = true
				}
			}
		case ast.Expr:
			if tv, ok := e.Info.Types[x]; ok && isDSLType(tv.Type) {
				found = true
			}
		}
		return !found
	})
	return found
}

func (e *evaluator) assign(s *ast.AssignStmt) {
	if !e.mentionsDSL(s) {
		return
	}
	if s.Tok != token.DEFINE && s.Tok != token.ASSIGN {
		e.errorf(s.Pos(), "%s on a topology value is not statically resolvable", s.Tok)
		return
	}
	if len(s.Rhs) == 1 && len(s.Lhs) == 2 {
		// topology, err := builder.Build()
		call, ok := ast.Unparen(s.Rhs[0]).(*ast.CallExpr)
		if name, _ := e.callee(call); !ok || name != "StreamsBuilder.Build" {
			e.errorf(s.Pos(), "only builder.Build() may be assigned to two variables here")
			return
		}
		v := e.eval(call)
		e.bind(s.Lhs[0], v, s.Tok)
		e.bind(s.Lhs[1], nil, s.Tok)
		return
	}
	if len(s.Lhs) != len(s.Rhs) {
		e.errorf(s.Pos(), "this assignment is not statically resolvable: assign one builder call to one variable")
		return
	}
	for i := range s.Lhs {
		e.bind(s.Lhs[i], e.eval(s.Rhs[i]), s.Tok)
	}
}

func (e *evaluator) decl(s *ast.DeclStmt) {
	gd, ok := s.Decl.(*ast.GenDecl)
	if !ok || gd.Tok != token.VAR || !e.mentionsDSL(s) {
		return
	}
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		if len(vs.Values) == 0 {
			continue // declared now, assigned once later
		}
		if len(vs.Values) != len(vs.Names) {
			e.errorf(vs.Pos(), "this declaration is not statically resolvable: assign one builder call to one variable")
			continue
		}
		for i, name := range vs.Names {
			e.bind(name, e.eval(vs.Values[i]), token.DEFINE)
		}
	}
}

// bind records that a variable holds v, rejecting a second assignment: a variable
// that changes would make the topology depend on the order things run in.
func (e *evaluator) bind(lhs ast.Expr, v value, tok token.Token) {
	id, ok := ast.Unparen(lhs).(*ast.Ident)
	if !ok {
		e.errorf(lhs.Pos(), "a topology value must be assigned to a local variable")
		return
	}
	if id.Name == "_" {
		return
	}
	obj := e.Info.Defs[id]
	if obj == nil {
		obj = e.Info.Uses[id]
	}
	if obj == nil {
		return
	}
	if obj.Parent() == e.Types.Scope() {
		e.errorf(id.Pos(), "%s is a package-level variable: a topology must be built in local variables of its function", id.Name)
		return
	}
	if e.assigned[obj] {
		e.errorf(id.Pos(), "%s is assigned again here: a topology variable must be assigned once, or the topology would depend on run-time state", id.Name)
		return
	}
	e.assigned[obj] = true
	if v != nil {
		e.env[obj] = v
	}
}

func (e *evaluator) ret(s *ast.ReturnStmt) {
	switch e.g.Form {
	case ir.FormBuilder:
		if len(s.Results) > 0 {
			e.errorf(s.Pos(), "a topology that receives a builder returns nothing")
		}
	case ir.FormBuild:
		if len(s.Results) > 0 {
			if id, ok := ast.Unparen(s.Results[0]).(*ast.Ident); ok && id.Name == "nil" {
				e.errorf(s.Results[0].Pos(), "a topology returns the result of builder.Build(), not nil")
				e.retErr = true
				return
			}
		}
		switch len(s.Results) {
		case 1:
			if _, ok := e.eval(s.Results[0]).(topologyVal); !ok {
				e.errorf(s.Results[0].Pos(), "return builder.Build() here")
			}
		case 2:
			if _, ok := e.eval(s.Results[0]).(topologyVal); !ok {
				e.errorf(s.Results[0].Pos(), "the topology returned must come from builder.Build()")
			}
		}
	}
}

// callee names the DSL function or method a call resolves to, as "Name" or
// "Type.Method", by the types.Object of the called identifier.
func (e *evaluator) callee(call *ast.CallExpr) (string, bool) {
	fn, ok := e.calleeFunc(call)
	if !ok {
		return "", false
	}
	if recv := fn.Signature().Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := t.(*types.Named); ok {
			return n.Obj().Name() + "." + fn.Name(), true
		}
	}
	return fn.Name(), true
}

// calleeFunc resolves the function of the DSL package a call invokes.
func (e *evaluator) calleeFunc(call *ast.CallExpr) (*types.Func, bool) {
	if call == nil {
		return nil, false
	}
	id := calledIdent(call)
	if id == nil {
		return nil, false
	}
	fn, ok := e.Info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != StreamsPath {
		return nil, false
	}
	return fn.Origin(), true
}

func (e *evaluator) eval(x ast.Expr) value {
	switch x := ast.Unparen(x).(type) {
	case *ast.Ident:
		obj := e.Info.Uses[x]
		if v, ok := e.env[obj]; ok {
			return v
		}
		if obj != nil && e.assigned[obj] {
			return nil // reported where it was assigned
		}
		e.errorf(x.Pos(), "%s is not built in this function: gofkagen follows only streams created by builder calls in the topology function", x.Name)
	case *ast.CallExpr:
		return e.call(x)
	case *ast.IndexExpr:
		b, ok := e.eval(x.X).(branchesVal)
		if !ok {
			return nil
		}
		tv := e.Info.Types[x.Index]
		if tv.Value == nil || tv.Value.Kind() != constant.Int {
			e.errorf(x.Index.Pos(), "index a Branch result with a constant")
			return nil
		}
		i, _ := constant.Int64Val(tv.Value)
		if i < 0 || int(i) >= len(b.node.Fns) {
			e.errorf(x.Index.Pos(), "index %d is out of range: this Branch has %d predicate(s), so index 0 to %d", i, len(b.node.Fns), len(b.node.Fns)-1)
			return nil
		}
		return streamVal{port: ir.Port{Node: b.node, Index: int(i)}}
	default:
		e.errorf(x.Pos(), "this expression is not statically resolvable: gofkagen reads the topology without running it")
	}
	return nil
}

func (e *evaluator) call(call *ast.CallExpr) value {
	name, ok := e.callee(call)
	if !ok {
		e.errorf(call.Pos(), "%s is not a Gofka DSL call: build the topology with builder calls in this function, not through helper functions",
			types.ExprString(call.Fun))
		return nil
	}
	if call.Ellipsis.IsValid() {
		e.errorf(call.Ellipsis, "spread arguments (...) are not statically resolvable: list the arguments")
		return nil
	}
	var recv value
	pos := call.Pos()
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && e.Info.Selections[sel] != nil {
		pos = sel.Sel.Pos()
		if recv = e.eval(sel.X); recv == nil {
			return nil
		}
	}
	op := e.ops()[name]
	if op == nil {
		e.errorf(pos, "streams.%s cannot be used here: it is not a step of the topology chain", name)
		return nil
	}
	// With type errors in the package, the syntax may not match the method: check
	// arity and receiver so that no op sees a call it was not written for.
	if fn, ok := e.calleeFunc(call); ok {
		sig := fn.Signature()
		need := sig.Params().Len()
		if sig.Variadic() {
			need--
		}
		if len(call.Args) < need || (!sig.Variadic() && len(call.Args) > need) {
			e.errorf(pos, "%s takes %d arguments, got %d", name, sig.Params().Len(), len(call.Args))
			return nil
		}
	}
	if !receiverFits(name, recv) {
		e.errorf(pos, "%s is called on a value gofkagen cannot follow", name)
		return nil
	}
	return op(recv, call, pos)
}

// receiverFits reports whether the evaluated receiver is the kind of value the
// method belongs to.
func receiverFits(name string, recv value) bool {
	typ, _, isMethod := strings.Cut(name, ".")
	if !isMethod {
		return recv == nil
	}
	switch recv.(type) {
	case builderVal:
		return typ == "StreamsBuilder"
	case streamVal:
		return typ == "Stream" || typ == "KStream"
	case groupedVal:
		return typ == "GroupedStream" || typ == "KGroupedStream"
	case tableVal:
		return typ == "KTable"
	case groupedTableVal:
		return typ == "KGroupedTable"
	case windowsVal:
		return typ == "Windows"
	case windowedVal:
		return typ == "WindowedKStream"
	case joinWindowsVal:
		return typ == "JoinWindowsSpec"
	}
	return false
}

// calledIdent is the identifier naming the function a call invokes: f in f(x),
// pkg.f(x), recv.f(x) and f[T](x); nil for other callees.
func calledIdent(call *ast.CallExpr) *ast.Ident {
	fun := ast.Unparen(call.Fun)
	switch ix := fun.(type) {
	case *ast.IndexExpr:
		fun = ix.X
	case *ast.IndexListExpr:
		fun = ix.X
	}
	switch f := fun.(type) {
	case *ast.Ident:
		return f
	case *ast.SelectorExpr:
		return f.Sel
	}
	return nil
}
