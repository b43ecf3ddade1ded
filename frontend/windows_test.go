package frontend

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// Windowing a stream that is not grouped cannot type-check: WindowedBy exists only
// on *KGroupedStream. This is the error a user (and gofkagen, which reports the
// package's type errors as they are) sees. It is not a golden case because a
// package that does not type-check would break go vet ./... in this repository.
func TestWindowUngroupedIsATypeError(t *testing.T) {
	const src = `package p

import (
	"time"

	"github.com/gofka/streams"
)

//gofka:topology
func Ungrouped(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "views").
		WindowedBy(streams.TumblingWindows(time.Minute)).
		Count(streams.RocksDBStore("counts"))
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "topology.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	imp := loadImports(t)
	var msgs []string
	conf := types.Config{Importer: imp, Error: func(err error) { msgs = append(msgs, err.Error()) }}
	conf.Check("p", fset, []*ast.File{f}, nil)
	want := "topology.go:12:3: " // the position of WindowedBy
	if len(msgs) == 0 || !strings.HasPrefix(msgs[0], want) || !strings.Contains(msgs[0], "type *streams.KStream has no field or method WindowedBy") {
		t.Fatalf("type errors = %q, want one at %s saying *streams.KStream has no method WindowedBy", msgs, want)
	}
}
