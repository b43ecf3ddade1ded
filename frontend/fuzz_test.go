package frontend

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

// fuzzImports are the packages fuzzed topologies may import; they are loaded once.
var fuzzImports = []string{StreamsPath, "strings", "bytes", "encoding/binary", "fmt", "time"}

var (
	importsOnce sync.Once
	imported    map[string]*types.Package
	importsErr  error
)

type mapImporter map[string]*types.Package

func (m mapImporter) Import(path string) (*types.Package, error) {
	if p, ok := m[path]; ok {
		return p, nil
	}
	return nil, os.ErrNotExist
}

func loadImports(tb testing.TB) mapImporter {
	importsOnce.Do(func() {
		pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedTypes}, fuzzImports...)
		if err != nil {
			importsErr = err
			return
		}
		imported = map[string]*types.Package{}
		for _, p := range pkgs {
			imported[p.PkgPath] = p.Types
		}
	})
	if importsErr != nil {
		tb.Fatal(importsErr)
	}
	return imported
}

// FuzzCompile feeds mutated topology sources to the frontend, type errors and all:
// it must report problems, never panic. The seed corpus (testdata/fuzz/FuzzCompile
// and the topologies below) runs with every go test.
func FuzzCompile(f *testing.F) {
	for _, src := range fuzzSeeds(f) {
		f.Add(src)
	}
	imp := loadImports(f)
	f.Fuzz(func(t *testing.T, src string) {
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, "topology.go", src, parser.ParseComments)
		if err != nil {
			return
		}
		info := &types.Info{
			Types:      map[ast.Expr]types.TypeAndValue{},
			Defs:       map[*ast.Ident]types.Object{},
			Uses:       map[*ast.Ident]types.Object{},
			Selections: map[*ast.SelectorExpr]*types.Selection{},
			Instances:  map[*ast.Ident]types.Instance{},
		}
		conf := types.Config{Importer: imp, Error: func(error) {}}
		pkg, _ := conf.Check("example.com/fuzz", fset, []*ast.File{file}, info)
		graphs, errs := compile(Input{
			Fset: fset, Files: []*ast.File{file}, Types: pkg, Info: info,
			ReadFile: func(string) ([]byte, error) { return []byte(src), nil },
		})
		if len(graphs) > 0 && len(errs) > 0 {
			for _, e := range errs {
				t.Log(e)
			}
		}
	})
}

// fuzzSeeds are the golden suite's topologies plus a few written here.
func fuzzSeeds(tb testing.TB) []string {
	seeds := []string{
		`package p

import "github.com/gofka/streams"

func keep(k, v []byte) bool { return len(v) > 0 }
func swap(k, v []byte) ([]byte, []byte) { return v, k }
func zero() []byte { return make([]byte, 8) }
func add(a, v []byte) []byte { a[7]++; return a }

//gofka:topology
func T() (*streams.Topology, error) {
	b := streams.NewBuilder()
	b.From("in").Filter(keep).Map(swap).GroupByKey().Aggregate(zero, add, streams.RocksDBStore("s")).To("out")
	return b.Build()
}
`,
		`package p

import (
	"strings"

	"github.com/gofka/streams"
)

type Click struct{ User, URL string }

//gofka:topology
func T(b *streams.StreamsBuilder) {
	s := b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "a", "b")
	parts := s.Branch(func(k string, c Click) bool { return strings.HasPrefix(c.URL, "/x") }, func(k string, c Click) bool { return true })
	parts[0].SelectKey(func(k string, c Click) string { return c.User }).GroupByKey().Count(streams.InMemoryStore("c")).ToStream().To("counts")
	parts[1].Merge(s).MapValues(func(c Click) string { return c.URL }).To("urls")
	b.Table(streams.With(streams.String(), streams.Int64()), "t", streams.RocksDBStore("t")).ToStream().FlatMapValues(func(v int64) []int64 { return nil }).To("u")
	for i := 0; i < 2; i++ {
		s.To("loop")
	}
}
`,
	}
	cases, _ := filepath.Glob("../golden/*/in/*.go")
	for _, c := range cases {
		if b, err := os.ReadFile(c); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}
