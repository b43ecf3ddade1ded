package frontend

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/gofka/streams/ir"
)

// Load type-checks the package in dir and compiles its topologies into lowered
// graphs: all gofkagen generate, check, describe and k8s need. It returns every
// problem found, sorted by position, and then no package. A Go error in the
// package (a type or syntax error) is reported once, as an *ir.Error, and stops
// the load: the topologies of a package that does not compile are not read.
func Load(dir string) (*ir.Package, []error) {
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
		return nil, goErrors(p.Errors)
	}
	graphs, errs := Compile(Input{Fset: p.Fset, Files: p.Syntax, Types: p.Types, Info: p.TypesInfo})
	if len(errs) > 0 {
		return nil, errs
	}
	return &ir.Package{
		Dir: abs, Path: p.PkgPath, Name: p.Name, Types: p.Types, Graphs: graphs,
		Main: p.Name == "main" && !declaresMain(p.Fset, p.Syntax),
	}, nil
}

// goErrors turns the errors go/packages found in the user's package into
// *ir.Error values, printed like the compiler's own, each once, as the go command
// prints them. A type error appears twice in go/packages' answer, once from the
// type checker and once in the compiler output of go list ("# pkg" and the same
// lines): that copy is dropped. As with go build, syntax errors hide type errors,
// and a line shows only its first syntax error.
func goErrors(pkgErrs []packages.Error) []error {
	kinds := map[packages.ErrorKind]bool{}
	for _, e := range pkgErrs {
		kinds[e.Kind] = true
	}
	var errs []error
	lines := map[string]bool{} // file:line of the syntax errors kept
	for _, e := range pkgErrs {
		switch {
		case e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") && (kinds[packages.TypeError] || kinds[packages.ParseError]):
			continue
		case e.Kind == packages.TypeError && kinds[packages.ParseError]:
			continue
		}
		pos, ok := parsePosition(e.Pos)
		if !ok {
			errs = append(errs, errors.New(e.Error()))
			continue
		}
		if e.Kind == packages.ParseError {
			line := fmt.Sprintf("%s:%d", pos.Filename, pos.Line)
			if lines[line] {
				continue
			}
			lines[line] = true
		}
		errs = append(errs, &ir.Error{Pos: pos, Msg: e.Msg})
	}
	SortErrors(errs)
	return errs
}

// parsePosition reads go/packages' "file:line:col" or "file:line".
func parsePosition(s string) (token.Position, bool) {
	var nums []int
	for range 2 {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(s[i+1:])
		if err != nil {
			break
		}
		nums = append([]int{n}, nums...)
		s = s[:i]
	}
	if s == "" || len(nums) == 0 {
		return token.Position{}, false
	}
	pos := token.Position{Filename: s, Line: nums[0]}
	if len(nums) == 2 {
		pos.Column = nums[1]
	}
	return pos, true
}

// blankGenerated replaces an existing generated file by an empty file of the same
// package, so that a generated file made for older sources cannot break the load.
func blankGenerated(dir string) map[string][]byte {
	path := filepath.Join(dir, ir.GeneratedFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
	if err != nil {
		return nil
	}
	return map[string][]byte{path: []byte("package " + f.Name.Name + "\n")}
}

func declaresMain(fset *token.FileSet, files []*ast.File) bool {
	for _, f := range files {
		if filepath.Base(fset.Position(f.Package).Filename) == ir.GeneratedFile {
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
