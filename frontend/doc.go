// Package frontend reads a Go package and turns each topology in it into an ir.Graph.
//
// A topology is a top-level function carrying the directive //gofka:topology, in
// one of two forms:
//
//	//gofka:topology
//	func ClickCount() (*streams.Topology, error) { b := streams.NewBuilder(); …; return b.Build() }
//
//	//gofka:topology
//	func ClickCount(b *streams.StreamsBuilder) { … }
//
// The data flow: Load asks golang.org/x/tools/go/packages for the syntax and types of
// the package (with gofka_gen.go blanked out, so a stale generated file never stops
// a regeneration); Compile finds the topology functions; the evaluator walks each
// body statement by statement, recognising every DSL call by the types.Object it
// resolves to (never by its name text), and builds IR nodes while it tracks the
// key and value types of each stream. Every user function is checked against those
// types, and every JSON serde against what encoding/json can encode. ir.Lower then
// runs the passes, and Load returns an ir.Package, all codegen.Generate needs.
// Problems are collected, not thrown: the caller gets all of them at once, as
// *ir.Error values printed file:line:col: message, sorted by position. After a
// mistake the evaluator goes on with the types it can still tell (a Branch with a
// wrong predicate still has its branches), so one run reports every mistake.
//
// The evaluator never runs user code. It accepts only what it can resolve
// statically: straight-line builder calls, variables assigned once, constant topic
// names, and functions that are named, method expressions, or literals that capture
// nothing. Anything else (a loop, a condition, a reassignment, a helper that returns
// a stream) is an error that says why.
package frontend
