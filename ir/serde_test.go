package ir

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// TestJSONProblem checks JSONProblem against what encoding/json does with each
// type (as its documentation and typeFields describe it).
func TestJSONProblem(t *testing.T) {
	const src = `package p

import "unsafe"

type Fn struct{ F func() }
type Ch struct{ C chan int }
type Cx struct{ C complex64 }
type Ptr struct{ P unsafe.Pointer }
type Deep struct{ Items []*Fn }
type ArrayOf struct{ A [2]map[string]Fn }
type Key struct{ X int }
type BadKey struct{ M map[Key]int }
type TextKey struct{ X int }
func (TextKey) MarshalText() ([]byte, error) { return nil, nil }
type GoodKeys struct{ S map[string]int; I map[uint8]int; T map[TextKey]int }
type Skipped struct {
	hidden func()
	Tagged chan int ` + "`json:\"-\"`" + `
	Dash   int      ` + "`json:\"-,\"`" + `
}
type Self struct{ F func() }
func (*Self) MarshalJSON() ([]byte, error) { return nil, nil }
type inner struct{ F func() }
type Embeds struct{ inner }
type hiddenFunc func()
type EmbedsFunc struct{ hiddenFunc }
type List struct{ Next *List; Name string }
type Any struct{ V any }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, want string }{
		{"Fn", "field F has type func()"},
		{"Ch", "field C has type chan int"},
		{"Cx", "field C has type complex64"},
		{"Ptr", "field P has type unsafe.Pointer"},
		{"Deep", "field Items[i].F has type func()"},
		{"ArrayOf", "field A[i][k].F has type func()"},
		{"BadKey", "field M, a map, has key type Key"},
		{"GoodKeys", ""},
		{"Skipped", ""},
		{"Self", ""},
		{"Embeds", "field inner.F has type func()"},
		{"EmbedsFunc", ""},
		{"List", ""},
		{"Any", ""},
	} {
		typ := pkg.Scope().Lookup(tc.typ).Type()
		got := JSONProblem(typ, types.RelativeTo(pkg))
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("JSONProblem(%s) = %q, want %q…", tc.typ, got, tc.want)
		}
	}
	if got := JSONProblem(types.NewSignatureType(nil, nil, nil, nil, nil, false), nil); got != "encoding/json cannot encode a func()" {
		t.Errorf("JSONProblem(func()) = %q", got)
	}
}
