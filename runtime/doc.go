// Package runtime is the thin layer that generated topology code is linked with.
//
// gofkagen turns each topology into a Program: a table of the topics it touches, its
// state stores, and one task factory per sub-topology. A runner (the broker runtime,
// or streamstest's in-process driver) owns the data flow around the tasks:
//
//	fetch batch of one topic-partition ─▶ Task.Process(source, batch)
//	    └─ generated straight-line code: decode ▶ user functions ▶ typed store cache ▶ encode
//	         └─ Emitter.Emit(topic, key, value, timestamp) ─▶ runner: partition by key, produce
//	commit point ─▶ Task.Flush() ─▶ state.Backend (and its changelog) ─▶ commit offsets
//
// The generated code calls nothing in this package per record except Emit and
// small helpers the compiler inlines (StringBytes, a join's JoinTimes), so the
// cost of the runtime is per batch, not per record. The exception is a Process
// step (processor.go, timers.go): its ProcessorContext, KeyValueStores and
// Timers are this package's types, called directly by the generated code; a
// task with timers is also a Punctuator, to which a runner gives wall-clock time.
package runtime
