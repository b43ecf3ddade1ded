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
//	<topology>Description, <topology>Mermaid  what describe prints
//
//	gofkaJSON<T>                             the JSON serde of a record type T, specialized
//	                                         by codegen/jsongen (encoding/json's behaviour)
//
// The file reads top-down: serde variables, the generated JSON serdes, the pins (each function once, sorted
// by name), then per topology its function literals, Compiled<Topology> and its
// task types; main, when gofkagen writes one; and last the description constants,
// which only describe reads.
//
// The comments read as the graph: a task's doc comment draws its sub-topology as
// a tree (one per source and per merge, chains of single consumers on one line),
// and the code of each consumer of a fan-out and of each port of a Branch starts
// with a comment saying which it is (fan-out 2 of 3 from Source#0: ...; branch 1
// of Branch#4 at topology.go:12:3: isAdmin → Sink#6 topic "admin-views").
// Comments name nodes as ir does (Filter#3) and topics and stores as the
// Program's tables do (topic "click-counts-repartition", not the full name under
// the default application id).
//
// The code of a task is the sub-topology's nodes unrolled in data-flow order: a
// loop over the batch per source node decodes key and value once, calls each user
// function directly (so the Go compiler can inline it), keeps state in a typed
// state.Cache, and encodes once into buffers reused for every record. A Filter
// becomes `continue`, a Branch an if/else chain, a FlatMap a range loop; the chain
// after a Merge becomes one method that both inputs call; the chain after a
// Process becomes a method run over what the processor forwarded, and its timers
// a method the record loops call when stream time reaches them (process.go).
// A table step hands the next one a change (key, new value and whether it
// exists, and the old value when a later GroupBy subtracts it) in plain local
// variables; joins read the other side's typed cache (table.go, table_ops.go).
// The tables a table-table or foreign-key join reads keep each row's timestamp
// (ir.Store.Timestamped: a state.TimestampedCache), and the join's result takes
// the later of the change's and the other row's; what follows a step that
// restamps (a window, a join, an aggregate feeding a join) emits the time in
// the variable resultTime names instead of the record's.
// The task's stream time is the largest timestamp its sources read; a windowed
// aggregation, a Suppress and a stream-stream join keep their own, by the
// records reaching them (optime.go, join.go).
// There is no interface, closure, channel or goroutine between two operators.
//
// Output is gofmt'd and deterministic: names come from node numbers and topic
// names, and nothing is emitted in map order.
package codegen
