// Package windows measures the generated windowed count against a hand-written
// Go loop doing the same windowing (issue 14's speed target: ≥ 0.8× the loop,
// no allocation per record in steady state), over the same 1,000,000 in-memory
// records: 10,000 keys, event times 1 ms apart, one record in a hundred out of
// order by less than the grace (Generate).
//
//   - handwritten (handwritten.go): a map per key and window, expiry by stream
//     time, the sink's windowed keys in Kafka Streams' time-windowed bytes, a
//     commit to a state.MemoryBackend. windowing.go holds the window rules it
//     follows, Kafka Streams' TimeWindows; windows_test.go checks it against a
//     brute-force count written from the definition.
//
//   - generated (topology.go, gofka_gen.go, generated_test.go): the same counts
//     as gofkagen generates them, run by their task over the same batches,
//     committing to state.MemoryBackend stores; TestGeneratedMatchesHandwritten
//     checks that both write the same output bytes, batch by batch.
//
//     go test -run '^$' -bench . -benchmem -benchtime 2x ./windows/
//
// ns/record is per input record, wall-clock; cpu-ns/record is the process's
// CPU time per record (garbage collection included), the steadier figure on
// a shared machine. Both sides commit to a state.MemoryBackend.
//
// The hopping count keeps about 126,000 windows open, more than the 100,000
// entries of state.DefaultCacheEntries (the cache bound when the runner sets
// none): BenchmarkHopping/generated spills windows to the backend, whose Put
// and DeleteRange are then most of the time. generated-engine-cache runs with
// the bound runtime/engine gives a store partition under its default memory
// budget (EngineCacheEntries, from engine.SplitMemory), as an application runs, and
// generated-engine-cache-rocksdb does so over a RocksDB store, the engine's
// backend. Results: bench/results/windows.md.
//
// Each pass moves event time on by Span (Shift), so state carries over from
// pass to pass as in a long-running application.
package windows
