package ir

import "go/types"

// GeneratedFile is the name of the file codegen writes into a package. The
// frontend reads the package as if that file were empty, so that a generated file
// made for older sources never stops a regeneration.
const GeneratedFile = "gofka_gen.go"

// Package is a user package with its compiled topologies: what frontend.Load
// returns, and all codegen.Generate and gofkagen describe need.
type Package struct {
	Dir   string         // absolute directory of the package; the generated file goes there
	Path  string         // import path
	Name  string         // package name
	Types *types.Package // the type-checked package, for names that do not collide with the user's
	// Graphs are the lowered topologies, in source order.
	Graphs []*Graph
	// Main asks codegen for a main function that runs the topologies: the package
	// is main and declares no main function of its own.
	Main bool
}
