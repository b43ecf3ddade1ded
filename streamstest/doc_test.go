package streamstest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestPackageDocExample keeps the example in the package doc the same as the test
// examples/clickcount runs, so the example compiles and passes.
func TestPackageDocExample(t *testing.T) {
	fset := token.NewFileSet()
	doc, err := parser.ParseFile(fset, "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	for _, line := range strings.Split(doc.Doc.Text(), "\n") {
		if code, ok := strings.CutPrefix(line, "\t"); ok {
			example = append(example, code)
		} else if len(example) > 0 && line != "" {
			break // the example is the first code block
		} else if len(example) > 0 {
			example = append(example, "")
		}
	}
	got := strings.TrimSpace(strings.Join(example, "\n"))

	const path = "../examples/clickcount/doc_example_test.go"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "TestCountsPerUser" {
			want = string(src[fset.Position(fn.Pos()).Offset:fset.Position(fn.End()).Offset])
		}
	}
	if want == "" {
		t.Fatalf("%s has no func TestCountsPerUser", path)
	}
	if got != want {
		t.Errorf("the example in the package doc differs from TestCountsPerUser in %s:\n--- doc\n%s\n--- %s\n%s", path, got, path, want)
	}
}
