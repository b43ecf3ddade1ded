package frontend

import (
	"go/token"

	"golang.org/x/tools/go/analysis"

	"github.com/gofka/streams/ir"
)

// Analyzer reports the problems gofkagen would report, through go vet and any
// go/analysis driver (editors included):
//
//	go install github.com/gofka/streams/cmd/gofkavet
//	go vet -vettool=$(which gofkavet) ./...
var Analyzer = &analysis.Analyzer{
	Name: "gofka",
	Doc:  "check Gofka Streams topologies (functions marked //gofka:topology) as gofkagen compiles them",
	URL:  "https://pkg.go.dev/github.com/gofka/streams/frontend",
	Run:  runAnalyzer,
}

func runAnalyzer(pass *analysis.Pass) (any, error) {
	_, errs := Compile(Input{Fset: pass.Fset, Files: pass.Files, Types: pass.Pkg, Info: pass.TypesInfo, ReadFile: pass.ReadFile})
	for _, err := range errs {
		e, ok := err.(*ir.Error)
		if !ok {
			pass.Reportf(pass.Files[0].Package, "%v", err)
			continue
		}
		pass.Report(analysis.Diagnostic{Pos: position(pass.Fset, e.Pos), Message: e.Msg})
	}
	return nil, nil
}

// position turns a printed position back into a token.Pos of the file set.
func position(fset *token.FileSet, p token.Position) token.Pos {
	var pos token.Pos
	fset.Iterate(func(f *token.File) bool {
		if f.Name() != p.Filename || p.Line < 1 || p.Line > f.LineCount() {
			return true
		}
		pos = f.LineStart(p.Line) + token.Pos(p.Column-1)
		return false
	})
	return pos
}
