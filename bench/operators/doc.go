// Package operators measures what the Gofka compiler buys on the seed document's
// click-count topology, by running the same work four ways over the same
// 1,000,000 in-memory records (values "user,/path", 10% of them "bot:…" clicks,
// about 10,000 distinct users, generated deterministically by GenerateClicks):
//
//   - generated: ClickCount in topology.go, compiled by gofkagen into gofka_gen.go.
//     A minimal in-memory runner in bench_test.go drives the two generated tasks as
//     the broker runtime would on one partition: batches of BatchSize records to
//     sub-topology 0, its repartition records copied into reused chunks and handed
//     to sub-topology 1 as a reused []runtime.Record batch, sink records copied into
//     a reused buffer, the store a state.MemoryBackend behind the generated
//     state.Cache, and both tasks flushed (a commit) at the end of every pass.
//   - handwritten (handwritten.go): the same work as one plain Go loop, with the
//     same batching, repartition copy, sink copy and commit; its doc comment lists
//     what "same work" includes and what it leaves out.
//   - interface-chain (chain.go): the same graph the way a stream library without a
//     compiler runs it: nodes behind a Processor interface, user functions in func
//     fields, serdes behind an interface, and a map[string][]byte store that
//     serializes on every access, like Kafka Streams' un-cached stores. It keeps
//     []byte end to end and allocates nothing: the strongest chain we could write,
//     so the most conservative baseline for what the compiler buys.
//   - library-chain (librarychain.go, on the small library in libchain/): the same
//     graph the way Go stream libraries without a compiler actually run it,
//     modelled on goka v1.1.17 and Kafka Streams' Processor API: string keys and
//     any values, user functions adapted to func(key string, value any) shapes
//     with type assertions, codecs that return any (goka.Codec), a store that keeps
//     encoded bytes, decoding on Get and encoding on Put (goka's group table), and
//     processors that forward through a Context interface (Kafka Streams'
//     ProcessorContext.forward). It allocates what that API forces and nothing
//     more: 1 allocation per record plus 6 per real click, about 6.4 per record
//     (TestLibraryChainAllocs).
//
// generated, interface-chain and library-chain call the user functions of
// topology.go and handwritten does the same inline; apart from library-chain none
// allocates per record in steady state (only a commit allocates, see below), and
// TestImplementationsAgree checks that all four produce one output record per real
// click and the same count per user as a plain map count over the input. TestGeneratedZeroAllocs checks that a batch
// through both generated tasks allocates nothing once its keys are cached, and
// TestGeneratedCommitAllocs that a commit allocates nothing either.
//
// Run from bench/, the benchmarks' own module (make bench-operators does):
//
//	go tool gofkagen check ./operators   # gofka_gen.go is up to date
//	go test ./operators
//	make bench-operators   (go test -run XXX -bench ClickCount -benchmem -count 6 ./operators, then benchstat)
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/bench.txt
//	go test -run XXX -bench PairedRatios -benchtime 30x ./operators
//
// BenchmarkClickCount measures each implementation on its own, a second or more at
// a time; BenchmarkPairedRatios runs them alternately, pass by pass, timing each
// pass by its thread's CPU time, and reports the median ratios of their rates,
// which a shared, noisy machine disturbs much less. Thread CPU time leaves out the
// garbage collector's background workers, so for library-chain, the only one that
// allocates per record, the paired figures understate its cost (only the GC
// assists charged to its thread count); BenchmarkClickCount's cpu-ns/record, the
// whole process's CPU time per record, includes them.
//
// Each benchmark op is one pass over all records; state carries over between
// passes as in a long-running application, and an untimed first pass inserts every
// user, so the timed loop is the steady state. Besides ns/op and allocs/op,
// BenchmarkClickCount reports ns/record, records/s, allocs/record and
// cpu-ns/record.
//
// After editing topology.go, or when gofkagen changes, regenerate with
// go generate ./operators in bench/ (gofkagen is a tool of the bench module, the
// way the README's "Use it in your own module" sets it up).
package operators
