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
// ns/record is per input record. Both sides commit to a state.MemoryBackend,
// whose ordered key slice makes each new key an O(n) insert: with many live
// windows (hopping) that insert, not the windowing, is most of the time.
//
// Each pass moves event time on by Span (Shift), so state carries over from
// pass to pass as in a long-running application.
package windows
