package codegen

import (
	"path/filepath"

	"github.com/gofka/streams/frontend"
)

// Result is the generated file of one package directory, not yet written.
type Result struct {
	Package    *frontend.Package
	OutputPath string
	Content    []byte
}

// GenerateDir loads the package in dir and generates its gofka_gen.go. It returns
// every problem found, sorted by position.
func GenerateDir(dir string) (*Result, []error) {
	pkg, errs := frontend.Load(dir)
	if len(errs) > 0 {
		return nil, errs
	}
	content, err := Generate(Input{
		PkgPath: pkg.Path,
		PkgName: pkg.Name,
		Types:   pkg.Types,
		Graphs:  pkg.Graphs,
		Main:    pkg.Name == "main" && !pkg.HasMain,
	})
	if err != nil {
		return nil, []error{err}
	}
	return &Result{Package: pkg, OutputPath: filepath.Join(pkg.Dir, frontend.GeneratedFile), Content: content}, nil
}
