package frontend

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"

	"golang.org/x/tools/go/packages"

	"github.com/gofka/streams/ir"
)

// GeneratedFile is the name of the file gofkagen writes into a package.
const GeneratedFile = "gofka_gen.go"

// Package is a loaded package with its compiled topologies.
type Package struct {
	Dir     string
	Path    string
	Name    string
	Types   *types.Package
	Fset    *token.FileSet
	Graphs  []*ir.Graph
	HasMain bool // the package is main and declares func main itself
}

// Load type-checks the package in dir and compiles its topologies. It returns every
// problem found, sorted by position.
func Load(dir string) (*Package, []error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, []error{err}
	}
	cfg := &packages.Config{
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:     abs,
		Overlay: blankGenerated(abs),
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		return nil, []error{fmt.Errorf("load %s: %w", dir, err)}
	}
	if len(pkgs) != 1 {
		return nil, []error{fmt.Errorf("load %s: found %d packages, want 1", dir, len(pkgs))}
	}
	p := pkgs[0]
	if len(p.Errors) > 0 {
		var errs []error
		for _, e := range p.Errors {
			errs = append(errs, errors.New(e.Error()))
		}
		return nil, errs
	}
	out := &Package{Dir: abs, Path: p.PkgPath, Name: p.Name, Types: p.Types, Fset: p.Fset}
	graphs, errs := Compile(Input{Fset: p.Fset, Files: p.Syntax, Types: p.Types, Info: p.TypesInfo})
	out.Graphs = graphs
	out.HasMain = p.Name == "main" && declaresMain(p.Fset, p.Syntax)
	return out, errs
}

// blankGenerated replaces an existing generated file by an empty file of the same
// package, so that a generated file made for older sources cannot break the load.
func blankGenerated(dir string) map[string][]byte {
	path := filepath.Join(dir, GeneratedFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
	if err != nil {
		return nil
	}
	return map[string][]byte{path: []byte("package " + f.Name.Name + "\n")}
}

func declaresMain(fset *token.FileSet, files []*ast.File) bool {
	for _, f := range files {
		if filepath.Base(fset.Position(f.Package).Filename) == GeneratedFile {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
				return true
			}
		}
	}
	return false
}

// SortErrors orders errors by position (file, line, column), then message; errors
// without a position come first.
func SortErrors(errs []error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, aok := errs[i].(*ir.Error)
		b, bok := errs[j].(*ir.Error)
		switch {
		case aok && bok:
			if a.Pos.Filename != b.Pos.Filename {
				return a.Pos.Filename < b.Pos.Filename
			}
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line < b.Pos.Line
			}
			if a.Pos.Column != b.Pos.Column {
				return a.Pos.Column < b.Pos.Column
			}
			return a.Msg < b.Msg
		case aok != bok:
			return !aok
		}
		return false
	})
}

// sourceCache holds the source files that function literals and serde expressions
// are copied from.
type sourceCache struct {
	read  func(string) ([]byte, error)
	files map[string][]byte
}

func (c *sourceCache) text(fset *token.FileSet, from, to token.Pos) (string, error) {
	start, end := fset.Position(from), fset.Position(to)
	src, ok := c.files[start.Filename]
	if !ok {
		var err error
		src, err = c.read(start.Filename)
		if err != nil {
			return "", err
		}
		c.files[start.Filename] = src
	}
	if start.Offset < 0 || end.Offset > len(src) || start.Offset > end.Offset {
		return "", fmt.Errorf("%s: source changed while reading", start.Filename)
	}
	return string(src[start.Offset:end.Offset]), nil
}
