// Package golden is the golden test suite of gofkagen, in the style of google/wire's
// internal/wire/testdata: each case is a topology package and what compiling it
// must give, either the generated file and the output of running it, or the errors.
//
// # Layout
//
// Each directory golden/<CaseName> (CamelCase) is one case:
//
//	<CaseName>/in/*.go           the topology package, named like the case, lowercased
//	<CaseName>/in/*.go.txt       error cases only: a file the Go type checker rejects, copied as *.go
//	<CaseName>/in/input.txt      working cases: the records to pipe in
//	<CaseName>/want/gofka_gen.go.golden   working cases: the exact generated file
//	<CaseName>/want/output.txt   working cases: the expected run, written by hand
//	<CaseName>/want/errors.txt   error cases: the expected errors, one per line
//	<CaseName>/BUG.txt           optional: the case reproduces a known bug (below)
//
// A case is a working case if it has in/input.txt, and an error case otherwise.
// The in/ packages are part of the module, so they must type-check as plain Go and
// pass go vet (the DSL takes functions as any, so a wrong signature still compiles).
// The generated file is kept as gofka_gen.go.golden rather than gofka_gen.go:
// want/ holds it without the user's code it calls, so as a .go file it would break
// go build ./... .
//
// # What the test does
//
// TestGolden copies every case's in/*.go into one temporary module,
// example.com/golden, which uses this repository through a replace directive; the
// package of case Foo is example.com/golden/foo. It compiles each package in
// process with frontend.Load and codegen.Generate, as gofkagen does, then:
//
//   - For an error case, it prints the errors one per line, with the package's
//     directory shown as in/ (in/topology.go:12:7: Filter: ...), and compares them
//     with want/errors.txt. Every error must have a position in the case's files.
//   - For a working case, it compares the generated file with
//     want/gofka_gen.go.golden byte for byte, then builds one runner program for
//     all working cases (so the suite links once) and runs the case with it. The
//     runner (Main and Run in run.go) pipes in/input.txt into every exported
//     topology of the package with streamstest, and prints its sink topics and
//     stores; the result must equal want/output.txt.
//
// The format of input.txt and output.txt is documented on ParseInput and Run. In
// short, an input line is "<topic> <key> <value>", each of key and value a Go
// string literal, int64(N), float64(F) or nil, optionally followed by @N, the
// record's timestamp in ms; the output lists, per program,
// "<topic> <key> <value>" for each sink record and "store <name> <key> <value>"
// for each store entry, %q-quoted, an 8-byte binary value followed by the int64 it
// encodes, and "error: ..." for a record that failed. An input with a line
// "@timestamps" has each sink record followed by @N, its timestamp. Topics have Partitions
// partitions. Run also checks that each store equals the replay of its changelog,
// and that a run with one-entry store caches gives the same report.
//
// # Adding a case
//
// Make golden/<CaseName>/in with the topology package. For a working case, write
// in/input.txt, and write want/output.txt by hand: work out from the input and the
// meaning of the topology what each sink and store must hold. That is the check
// that does not trust the compiler. Then run
//
//	go test ./golden -update
//
// which writes want/gofka_gen.go.golden (working cases) or want/errors.txt (error
// cases). Review what it wrote: it is what the compiler does now, which is not
// necessarily what it should do.
//
// # -update
//
// With -update, the test rewrites want/errors.txt of error cases, and
// want/gofka_gen.go.golden of working cases, but the latter only when the
// generated code builds and its run equals want/output.txt: a change of the
// compiler that changes what the code does fails the test even with -update.
// output.txt is never written by the test. The flag -keep keeps the temporary
// module, for a look at the generated code and the runner.
//
// # Known bugs
//
// A case with a BUG.txt reproduces a bug that is not fixed yet: its want/ files
// say what should happen (output.txt or errors.txt written by hand), and BUG.txt
// says what happens instead. The test skips it while it fails, with what differs,
// and fails once it passes, so that BUG.txt is deleted with the fix. -update does
// not touch such a case. Directories starting with _ or . and testdata are not
// cases.
package golden
