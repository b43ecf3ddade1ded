// Package codegen turns lowered topology graphs into gofka_gen.go.
//
// The data flow: frontend.Load type-checks a package and returns an ir.Package of
// lowered graphs; Generate turns it into a Result, the file's content and where it
// goes, and writes nothing (gofkagen writes it, check compares it). codegen knows
// nothing of go/packages or of the command line, only of the IR.
//
// For each topology it emits, with github.com/dave/jennifer:
//
//	Compiled<Topology>() *runtime.Program    the table a runner reads: topics, stores, tasks
//	<topology>Task<N>                        one type per sub-topology, whose Process method
//	                                         runs the fused chain as straight-line code
//	func _() { runtime.GofkaGenIsStale_…[sig](fn) }   a pin per user function
//
// The code of a task is the sub-topology's nodes unrolled in data-flow order: a
// loop over the batch per source node decodes key and value once, calls each user
// function directly (so the Go compiler can inline it), keeps state in a typed
// state.Cache, and encodes once into buffers reused for every record. A Filter
// becomes `continue`, a Branch an if/else chain, a FlatMap a range loop; the chain
// after a Merge becomes one method that both inputs call. There is no interface,
// closure, channel or goroutine between two operators.
//
// Output is gofmt'd and deterministic: names come from node numbers and topic
// names, and nothing is emitted in map order.
package codegen
