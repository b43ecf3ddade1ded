// Package streams is the Gofka Streams DSL: the calls a user writes to describe a
// stream-processing topology.
//
// A topology file is compiled, not executed. gofkagen (run by go generate) loads the
// package, reads the calls inside every function marked //gofka:topology through
// go/types, lowers them to an IR (package ir), and writes gofka_gen.go: one task type
// per sub-topology whose batch method runs the whole fused chain as straight-line Go
// that calls the user's functions directly. The methods in this package therefore do
// nothing at run time; they exist so that the topology type-checks and reads well.
//
//	topology.go ──gofkagen──▶ gofka_gen.go ──go build──▶ binary (generated tasks + runtime)
//
// # Two ways to write a topology
//
// The seed API works on []byte keys and values, exactly as in the original design:
//
//	//gofka:topology
//	func ClickCount() (*streams.Topology, error) {
//		builder := streams.NewBuilder()
//		builder.From("user-clicks").
//			Filter(isRealClick).
//			Map(extractUserInfo).
//			GroupByKey().
//			Aggregate(initCounter, incrementCounter, streams.RocksDBStore("click-counts")).
//			To("user-click-counts")
//		return builder.Build()
//	}
//
// The typed API carries Go types for keys and values, with a serde for each:
//
//	//gofka:topology
//	func TypedClickCount(b *streams.StreamsBuilder) {
//		b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "user-clicks").
//			Filter(isRealClick).      // func(string, Click) bool
//			Map(extractUser).         // func(string, Click) (string, User)
//			GroupByKey().
//			Count(streams.RocksDBStore("click-counts")).
//			ToStream().
//			To("user-click-counts")   // string keys, int64 counts
//	}
//
// # Why function arguments are typed as any
//
// Go methods cannot have type parameters, so a fluent chain cannot change its key or
// value type through generic methods. We weighed three designs on the click-count
// topology above:
//
//  1. No DSL, only a processor API (as birdayz/kstreams does): every topology becomes
//     wiring code; the shape of the data flow disappears from the page.
//  2. Package-level generic functions for type-changing steps (as hugolhafner/go-streams
//     does): Go checks every type, but the chain breaks at each Map into a nested call
//     or a new statement, e.g. streams.Count(streams.Map(s.Filter(isReal), extractUser)).
//     The code reads inside-out, and the error for a wrong function is Go's generic
//     inference message, which names type parameters the user never wrote.
//  3. Methods that accept a function value as any, checked by the compiler (as
//     google/wire's wire.Build does): the chain reads top to bottom like Kafka Streams.
//
// We chose 3, because the topology is compiled anyway: gofkagen checks each function
// against the stream's current key and value types and reports every mistake at once
// as file:line:col with the expected and the actual signature, e.g.
//
//	topology.go:14:11: Map: extractUser has type func(c Click) User, want func(string, Click) (newKey, newValue)
//
// The generated file also names each user function with the signature it was
// generated for, so a later signature change breaks go build with a message that
// says to re-run gofkagen. Editors see the same errors through the go/analysis
// analyzer in package frontend (go vet -vettool). The cost is that plain go build,
// without gofkagen, accepts a wrong function; gofkagen check in CI closes that gap.
//
// # Serdes
//
// Keys and values cross a byte boundary at sources, sinks, repartition topics and
// stores. The serde used there is chosen at generation time: the one given with
// With, or else the default for the type: string, []byte, the integer and float
// types, bool (and named types over them) have binary serdes compatible with Kafka's
// own; structs and pointers to structs are JSON. Any other type needs an explicit
// serde, a value whose type has the methods of Serde.
package streams
