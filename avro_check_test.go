package streams_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/gofka/streams"
	"github.com/gofka/streams/ir"
)

// The types of TestAvroCompileTimeCheckAgrees, once as Go and once as source for
// go/types: gofkagen's check (ir.AvroProblem, on go/types) must accept exactly
// the types whose schema the serde can derive at run time (on reflect).
const avroCheckSource = `package p

import "time"

type Good struct {
	S string; B []byte; I8 int8; I int; U32 uint32; F float32; D float64; OK bool
	L []string; M map[string]*Good; P *int64; T time.Time; N struct{ A int16 }
}
type Base struct{ ID int64 }
type Embeds struct { Base; Name string }
type U64 struct{ N uint64 }
type IntKeys struct{ M map[int]string }
type Chan struct{ C chan int }
type Func struct{ F func() }
type EmbedsPtr struct { *Base }
type NoName struct{ A string ` + "`json:\",omitempty\"`" + ` }
type Skipped struct{ A string ` + "`json:\"-\"`" + `; F func() ` + "`avro:\"-\"`" + ` }
type PtrPtr struct{ P **int }
type Array struct{ A [4]int32 }
type Iface struct{ X any }
type Complex struct{ C complex64 }
`

type (
	Good struct {
		S   string
		B   []byte
		I8  int8
		I   int
		U32 uint32
		F   float32
		D   float64
		OK  bool
		L   []string
		M   map[string]*Good
		P   *int64
		T   time.Time
		N   struct{ A int16 }
	}
	Base   struct{ ID int64 }
	Embeds struct {
		Base
		Name string
	}
	U64       struct{ N uint64 }
	IntKeys   struct{ M map[int]string }
	Chan      struct{ C chan int }
	Func      struct{ F func() }
	EmbedsPtr struct{ *Base }
	NoName    struct {
		A string `json:",omitempty"`
	}
	Skipped struct {
		A string `json:"-"`
		F func() `avro:"-"`
	}
	PtrPtr  struct{ P **int }
	Array   struct{ A [4]int32 }
	Iface   struct{ X any }
	Complex struct{ C complex64 }
)

func TestAvroCompileTimeCheckAgrees(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", avroCheckSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtimeErr := map[string]error{
		"Good": streams.Avro[Good]().Err(), "Embeds": streams.Avro[Embeds]().Err(),
		"U64": streams.Avro[U64]().Err(), "IntKeys": streams.Avro[IntKeys]().Err(),
		"Chan": streams.Avro[Chan]().Err(), "Func": streams.Avro[Func]().Err(),
		"EmbedsPtr": streams.Avro[EmbedsPtr]().Err(), "NoName": streams.Avro[NoName]().Err(),
		"Skipped": streams.Avro[Skipped]().Err(), "PtrPtr": streams.Avro[PtrPtr]().Err(),
		"Array": streams.Avro[Array]().Err(), "Iface": streams.Avro[Iface]().Err(),
		"Complex": streams.Avro[Complex]().Err(),
	}
	wantOK := map[string]bool{"Good": true, "Embeds": true, "Skipped": true}
	for name, rerr := range runtimeErr {
		_, err := ir.AvroSchema(pkg.Scope().Lookup(name).Type(), nil)
		if (rerr == nil) != wantOK[name] || (err == nil) != wantOK[name] {
			t.Errorf("%s: run time says %v, compile time says %v; want ok=%v", name, rerr, err, wantOK[name])
		}
	}
	// The same schema, byte for byte.
	for name, s := range map[string]string{"Good": streams.Avro[Good]().Schema(), "Embeds": streams.Avro[Embeds]().Schema()} {
		compiled, err := ir.AvroSchema(pkg.Scope().Lookup(name).Type(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := avro.ParseWithCache(compiled, "", &avro.SchemaCache{}); err != nil || c.String() != s {
			t.Errorf("%s: compile time derives\n%s\nrun time\n%s", name, compiled, s)
		}
	}
}
