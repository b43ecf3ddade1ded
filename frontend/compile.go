package frontend

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"strings"
	"unicode"

	"github.com/gofka/streams/ir"
)

// StreamsPath is the import path of the DSL package.
const StreamsPath = "github.com/gofka/streams"

// Directive marks a topology function.
const Directive = "//gofka:topology"

// Input is a type-checked package, as go/packages or a go/analysis pass provides it.
type Input struct {
	Fset  *token.FileSet
	Files []*ast.File
	Types *types.Package
	Info  *types.Info
	// ReadFile reads a source file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

type compiler struct {
	Input
	src  *sourceCache
	errs []error
}

// Compile finds the topologies in a type-checked package and lowers each to a
// graph ready for codegen. It returns every problem, sorted by position; graphs
// with problems are left out.
func Compile(in Input) (graphs []*ir.Graph, errs []error) {
	defer func() {
		// A panic is a gofkagen bug (the fuzz target hunts for them); the user still
		// gets an error rather than a crash.
		if p := recover(); p != nil {
			graphs, errs = nil, []error{fmt.Errorf("gofkagen internal error (please report it with your topology): %v", p)}
		}
	}()
	return compile(in)
}

// compile is Compile without the panic guard, for the fuzz target.
func compile(in Input) (graphs []*ir.Graph, errs []error) {
	read := in.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	c := &compiler{Input: in, src: &sourceCache{read: read, files: map[string][]byte{}}}
	for _, f := range in.Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !hasDirective(d.Doc) {
					continue
				}
				before := len(c.errs)
				g := c.topology(d)
				if g == nil || len(c.errs) > before {
					continue
				}
				if lerrs := ir.Lower(g); len(lerrs) > 0 {
					c.errs = append(c.errs, lerrs...)
					continue
				}
				graphs = append(graphs, g)
			case *ast.GenDecl:
				if hasDirective(d.Doc) {
					c.errorf(d.Pos(), "%s must be on a function declaration", Directive)
				}
			}
		}
	}
	SortErrors(c.errs)
	return graphs, c.errs
}

func hasDirective(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, cm := range doc.List {
		if strings.TrimRight(cm.Text, " \t") == Directive {
			return true
		}
	}
	return false
}

func (c *compiler) errorf(pos token.Pos, format string, args ...any) {
	c.errs = append(c.errs, ir.Errorf(c.Fset.Position(pos), format, args...))
}

// topology checks a topology function's signature and evaluates its body.
func (c *compiler) topology(fd *ast.FuncDecl) *ir.Graph {
	if fd.Recv != nil {
		c.errorf(fd.Name.Pos(), "topology %s is a method: a topology must be a top-level function", fd.Name.Name)
		return nil
	}
	if fd.Type.TypeParams != nil {
		c.errorf(fd.Name.Pos(), "topology %s has type parameters: a topology must be a plain function", fd.Name.Name)
		return nil
	}
	if fd.Body == nil {
		c.errorf(fd.Name.Pos(), "topology %s has no body", fd.Name.Name)
		return nil
	}
	obj, ok := c.Info.Defs[fd.Name].(*types.Func)
	if !ok {
		return nil
	}
	g := &ir.Graph{Name: fd.Name.Name, Pos: c.Fset.Position(fd.Name.Pos()), DefaultAppID: kebab(fd.Name.Name)}
	e := &evaluator{compiler: c, g: g, fd: fd, env: map[types.Object]value{}, assigned: map[types.Object]bool{},
		sources: map[string]token.Position{}, stores: map[string]token.Position{}}
	before := len(c.errs)
	sig := obj.Signature()
	switch {
	case sig.Params().Len() == 0 && sig.Results().Len() == 2 &&
		isStreamsType(sig.Results().At(0).Type(), "Topology", true) &&
		types.Identical(sig.Results().At(1).Type(), types.Universe.Lookup("error").Type()):
		g.Form = ir.FormBuild
	case sig.Params().Len() == 1 && sig.Results().Len() == 0 &&
		isStreamsType(sig.Params().At(0).Type(), "StreamsBuilder", true):
		g.Form = ir.FormBuilder
		e.env[sig.Params().At(0)] = builderVal{}
		e.builder = true
	default:
		c.errorf(fd.Name.Pos(), "topology %s has type %s, want func() (*streams.Topology, error) or func(*streams.StreamsBuilder)",
			fd.Name.Name, types.TypeString(sig, func(p *types.Package) string {
				if p == c.Types {
					return ""
				}
				return p.Name()
			}))
		return nil
	}
	e.block(fd.Body.List)
	e.cycles()
	if g.Form == ir.FormBuild && !e.built && !e.retErr {
		c.errorf(fd.Name.Pos(), "topology %s never returns builder.Build()", fd.Name.Name)
	}
	if len(g.Nodes) == 0 && len(c.errs) == before { // otherwise the reason was reported
		c.errorf(fd.Name.Pos(), "topology %s reads no topic: start a stream with From, Stream or Table", fd.Name.Name)
	}
	return g
}

// isStreamsType reports whether t is the named type name of the DSL package, or a
// pointer to it when ptr is set.
func isStreamsType(t types.Type, name string, ptr bool) bool {
	if ptr {
		p, ok := t.(*types.Pointer)
		if !ok {
			return false
		}
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == StreamsPath && n.Obj().Name() == name
}

// dslTypes are the DSL's builder-chain types: a value of one of them is a piece of
// the topology, which must be built by straight-line calls.
var dslTypes = []string{"StreamsBuilder", "Topology", "Stream", "GroupedStream", "KStream", "KGroupedStream", "KTable", "KGroupedTable", "WindowedKStream", "GlobalKTable"}

func isDSLType(t types.Type) bool {
	if t == nil {
		return false
	}
	if s, ok := t.(*types.Slice); ok {
		t = s.Elem()
	}
	for _, name := range dslTypes {
		if isStreamsType(t, name, true) {
			return true
		}
	}
	return false
}

// kebab turns a Go identifier into an application id: ClickCount -> click-count.
func kebab(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		if r == '_' {
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}
