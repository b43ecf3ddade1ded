package jsongen

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

const planSource = `package p

import (
	"encoding/json"
	"time"
)

type Plain struct {
	A int
	T time.Time
}

type Quoted struct {
	N int ` + "`json:\",string\"`" + `
}

type Zero struct {
	N int ` + "`json:\",omitzero\"`" + `
}

type Inner struct{ X int }

type EmbedsPointer struct {
	*Inner
}

type PtrMarshal struct{ X int }

func (p *PtrMarshal) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

type HoldsPtrMarshal struct{ P PtrMarshal }

type ReachesPtrMarshal struct{ P *PtrMarshal }

type Mixed struct {
	Any  any
	Arr  [2]int
	N    json.Number
	ByID map[int]string
}

type Own struct{}

func (Own) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }
`

// TestFallback: each reason a type falls back to encoding/json, as a whole or
// in part, is said.
func TestFallback(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", planSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) types.Type { return pkg.Scope().Lookup(name).Type() }
	for _, c := range []struct {
		typ         types.Type
		reason, std string // substrings; "" for none
	}{
		{lookup("Plain"), "", ""},
		{types.NewPointer(lookup("Plain")), "", ""},
		{lookup("Quoted"), `",string" option`, ""},
		{lookup("Zero"), `"omitzero" option`, ""},
		{lookup("EmbedsPointer"), "embeds the pointer *Inner", ""},
		{lookup("HoldsPtrMarshal"), "PtrMarshal has MarshalJSON or MarshalText on its pointer receiver only", ""},
		{lookup("ReachesPtrMarshal"), "", ""},
		{lookup("Mixed"), "", "any (an interface"},
		{lookup("Mixed"), "", "[2]int (arrays"},
		{lookup("Mixed"), "", "json.Number"},
		{lookup("Mixed"), "", "map[int]string (map keys"},
		{lookup("Own"), "", ""},
	} {
		reason, std := Fallback(c.typ, pkg)
		if c.reason == "" && reason != "" || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: reason %q, want one with %q", c.typ, reason, c.reason)
		}
		all := strings.Join(std, ", ")
		if c.std == "" && c.reason == "" && all != "" && c.typ != lookup("Mixed") || !strings.Contains(all, c.std) {
			t.Errorf("%s: left to encoding/json %q, want %q", c.typ, all, c.std)
		}
	}
}
