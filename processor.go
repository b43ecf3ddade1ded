package streams

import (
	"time"

	"github.com/gofka/streams/runtime"
)

// Process runs a processor function on every record, for what the other steps
// cannot say (Kafka Streams' KStream.process, Flink's KeyedProcessFunction). f
// is a processor function, or a streams.Processor(f) with timers and
// punctuators. The stores are the processor's own, listed in the order of the
// store parameters of its functions. The stream it returns has the types the
// processor forwards; its key counts as changed, so a later grouping
// repartitions.
//
// A processor function of a stream with key K and value V is
//
//	func(ctx *streams.ProcessorContext[KOut, VOut], key K, value V, s1 *streams.KeyValueStore[K1, V1], ...) error
//
// with one store parameter per store listed, in that order. gofkagen checks it,
// and the store types, at compile time, and the generated code calls it
// directly. A processor that returns an error stops the task at that record, as
// a failing user function does anywhere.
//
//	s.Process(dedup, streams.RocksDBStore("seen-ids"))
func (s *KStream) Process(f any, stores ...StateStoreConfig) *KStream { return s }

// ProcessorSpec is a processor function with its timer function and
// punctuators, made by Processor.
type ProcessorSpec struct{ _ [0]func() }

// Processor starts a ProcessorSpec from the processor function f (see Process).
//
//	s.Process(streams.Processor(track).OnTimer(sessionEnded).Punctuate(time.Minute, streams.StreamTime, report),
//		streams.RocksDBStore("sessions"))
func Processor(f any) ProcessorSpec { return ProcessorSpec{} }

// OnTimer sets the function called when a timer the processor registered
// (ctx.RegisterEventTimeTimer, ctx.RegisterProcessingTimeTimer) fires:
//
//	func(ctx *streams.ProcessorContext[KOut, VOut], timer streams.Timer[K], stores...) error
//
// with the processor function's context and store parameters. Timers are kept
// per key in a store of their own with a changelog ("<store>-timers", named
// after the processor's first store, or "<function>-timers"), so they survive
// restarts and moves, and each fires once under exactly-once.
//
// An event-time timer fires when stream time reaches it: after the record that
// advanced stream time past it is processed (as Kafka Streams punctuates), before
// the next record; timers that are due together fire in time order, then key
// order. A processing-time timer fires when the runner's wall clock reaches it.
func (p ProcessorSpec) OnTimer(f any) ProcessorSpec { return p }

// Punctuate schedules f every interval (a constant) of the given clock
// (Kafka Streams' ProcessorContext.schedule):
//
//	func(ctx *streams.ProcessorContext[KOut, VOut], stores...) error
//
// It fires when the clock reaches a multiple of interval counted from the Unix
// epoch, once however far the clock jumped, with ctx.Timestamp() that multiple.
// Its next time is kept in the timer store, so a restart neither repeats nor
// skips a punctuation on stream time; on wall-clock time, a restart after a
// pause longer than interval fires it once at once for the time missed.
func (p ProcessorSpec) Punctuate(interval time.Duration, clock PunctuationType, f any) ProcessorSpec {
	return p
}

// PunctuationType is the clock a punctuator follows.
type PunctuationType uint8

const (
	// StreamTime is the task's stream time (Kafka Streams' STREAM_TIME).
	StreamTime PunctuationType = iota
	// WallClockTime is the runner's wall clock (Kafka Streams' WALL_CLOCK_TIME).
	WallClockTime
)

// ProcessorContext is what a processor, timer or punctuator function is
// given: it forwards records (Forward, ForwardAt), tells the time (Timestamp,
// StreamTime) and registers per-key timers.
type ProcessorContext[KOut, VOut any] = runtime.ProcessorContext[KOut, VOut]

// KeyValueStore is a processor's store, with Get, Put, Delete and Range.
type KeyValueStore[K, V any] = runtime.ProcessorStore[K, V]

// Timer is a timer that fired, as an OnTimer function receives it.
type Timer[K any] = runtime.Timer[K]

// TimeDomain is the clock of a Timer: runtime.EventTime or runtime.ProcessingTime.
type TimeDomain = runtime.TimeDomain
