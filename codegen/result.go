package codegen

import (
	"path/filepath"

	"github.com/gofka/streams/ir"
)

// Result is the generated file of one package, not yet written: gofkagen writes
// it, or compares it with the file on disk (check); tests read it.
type Result struct {
	PkgPath    string
	OutputPath string // the package's directory and ir.GeneratedFile
	Content    []byte // nil when Errs is not
	Errs       []error
}

// Generate emits the gofka_gen.go of a package that frontend.Load compiled. It
// writes nothing.
func Generate(pkg *ir.Package) Result {
	res := Result{PkgPath: pkg.Path, OutputPath: filepath.Join(pkg.Dir, ir.GeneratedFile)}
	content, err := source(pkg)
	if err != nil {
		res.Errs = []error{err}
		return res
	}
	res.Content = content
	return res
}
