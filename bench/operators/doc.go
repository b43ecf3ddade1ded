// Package operators measures what the Gofka compiler buys on the seed document's
// click-count topology, by running the same work three ways over the same
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
//     serializes on every access, like Kafka Streams' un-cached stores.
//
// generated and interface-chain call the user functions of topology.go and
// handwritten does the same inline; none allocates per record in steady state
// (only a commit allocates, see below), and TestImplementationsAgree checks that
// they produce one output record per real click and the same count per user as a
// plain map count over the input. TestGeneratedZeroAllocs checks that a batch
// through both generated tasks allocates nothing once its keys are cached, and
// TestGeneratedCommitAllocs that a commit allocates nothing either.
//
// Run from the module root:
//
//	go run ./cmd/gofkagen check bench/operators   # gofka_gen.go is up to date
//	go test ./bench/operators
//	make bench-operators   (go test -run XXX -bench ClickCount -benchmem -count 6 ./bench/operators, then benchstat)
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/bench.txt
//	go test -run XXX -bench PairedRatios -benchtime 30x ./bench/operators
//
// BenchmarkClickCount measures each implementation on its own, a second or more at
// a time; BenchmarkPairedRatios runs them alternately, pass by pass, timing each
// pass by its thread's CPU time, and reports the median ratios of their rates,
// which a shared, noisy machine disturbs much less.
//
// Each benchmark op is one pass over all records; state carries over between
// passes as in a long-running application, and an untimed first pass inserts every
// user, so the timed loop is the steady state. Besides ns/op and allocs/op,
// BenchmarkClickCount reports ns/record, records/s and allocs/record.
//
// After editing topology.go, or when gofkagen changes, regenerate with
// go generate ./bench/operators (or go run ./cmd/gofkagen bench/operators).
package operators
