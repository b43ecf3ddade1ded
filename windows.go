package streams

import "time"

// Windows says how WindowedBy cuts a grouped stream into windows. Make one with
// TumblingWindows, HoppingWindows, SlidingWindows, SessionWindows or
// CountWindows, written in place in the WindowedBy call. gofkagen reads the
// durations at compile time, so they must be constant expressions, such as
// time.Minute or 5*time.Second.
//
// Time windows follow record time (the Kafka record's timestamp, in milliseconds).
// A record whose window has ended, plus grace, by stream time is late: it is not
// added, it is counted, and with the LateRecordsTo option it is written
// unchanged to a topic. The stream time is the aggregation's own, as in Kafka
// Streams: the largest record time that has reached it, so a record a Filter
// drops before it, or one that goes to another aggregation, closes no window.
type Windows struct{ _ [0]func() }

// TumblingWindows are fixed-size windows that do not overlap, aligned to the epoch:
// a record at time t falls in [t - t%size, t - t%size + size). size must be positive.
func TumblingWindows(size time.Duration) Windows { return Windows{} }

// HoppingWindows are fixed-size windows that start every advance, aligned to the
// epoch: a record falls in size/advance windows. 0 < advance <= size.
func HoppingWindows(size, advance time.Duration) Windows { return Windows{} }

// SlidingWindows are the windows of Kafka Streams' SlidingWindows: every window of
// length timeDifference (both ends inclusive) that starts or ends at a record, so
// two records fall in one window when their times differ by at most
// timeDifference. timeDifference must be positive.
func SlidingWindows(timeDifference time.Duration) Windows { return Windows{} }

// SessionWindows group a key's records into sessions: a session ends when no record
// arrives for inactivityGap, and a record that bridges two sessions merges them
// (Aggregate needs the SessionMerger option to merge two aggregates). As in
// Kafka Streams, the sessions a record replaces are forwarded as deletes (a
// sink gets a tombstone for each). inactivityGap must be positive.
func SessionWindows(inactivityGap time.Duration) Windows { return Windows{} }

// CountWindows are a window per n records of a key: the first n records of a key
// make its window 0, the next n its window 1, and so on. n must be positive.
// Count windows have no time, so Grace does not apply to them.
func CountWindows(n int64) Windows { return Windows{} }

// Grace sets how long after its end a time window still accepts out-of-order
// records (by stream time). The default is 0. It must not be negative.
func (w Windows) Grace(d time.Duration) Windows { return w }

// WindowedBy cuts the grouped stream into windows; an aggregation then keeps one
// aggregate per key and window.
func (g *KGroupedStream) WindowedBy(w Windows) *WindowedKStream { return &WindowedKStream{} }

// WindowedKStream is a grouped stream cut into windows, ready for an aggregation.
// The resulting table's keys are Windowed[K].
//
// Options, besides With (whose key serde is the plain key's): LateRecordsTo, and
// for Aggregate over session windows SessionMerger.
type WindowedKStream struct{ _ [0]func() }

// Count counts the records per key and window into store.
func (w *WindowedKStream) Count(store StateStoreConfig, opts ...Option) *KTable { return &KTable{} }

// Reduce combines the values per key and window. reducer: func(agg, value V) V.
// Over session windows it also merges the aggregates of two sessions a record
// bridges.
func (w *WindowedKStream) Reduce(reducer any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// Aggregate folds the values per key and window into an aggregate of type A.
// initializer: func() A; adder: func(key K, value V, agg A) A. Over session windows
// it needs the option SessionMerger(merger) to merge two sessions.
func (w *WindowedKStream) Aggregate(initializer, adder any, store StateStoreConfig, opts ...Option) *KTable {
	return &KTable{}
}

// Windowed is the key of a windowed table: the grouping key and the window's
// bounds. Time windows are [Start, End); a session's End is its last record's time.
// Its default serde writes what Kafka Streams' TimeWindowedSerializer or
// SessionWindowedSerializer writes (see TimeWindowedSerde, SessionWindowedSerde).
type Windowed[K any] struct {
	Key   K
	Start time.Time
	End   time.Time
}

// LateRecordsTo is an option of a windowed aggregation: records that arrive after
// their window closed are written unchanged (same key and value bytes) to topic.
type LateRecordsTo string

func (LateRecordsTo) isOption() {}

// SessionMergerOption carries the merger of a session-windowed Aggregate.
type SessionMergerOption struct{ _ [0]func() }

func (SessionMergerOption) isOption() {}

// SessionMerger is the option that merges the aggregates of two sessions a record
// bridges, for Aggregate over SessionWindows. merger: func(key K, agg1, agg2 A) A.
// It is an option rather than an argument so that one WindowedKStream type serves
// every kind of window; gofkagen reports its absence at compile time.
func SessionMerger(merger any) SessionMergerOption { return SessionMergerOption{} }

// Suppressed says what Suppress holds back; make one with UntilWindowCloses or
// UntilTimeLimit.
type Suppressed struct{ _ [0]func() }

// UntilWindowCloses emits exactly one final result per window, when stream time
// (the Suppress's own: the largest time of the updates that reached it) reaches the window's end plus grace (sessions: end plus gap plus grace; a
// session merged into another is never emitted). Only a time-windowed table can
// use it.
func UntilWindowCloses() Suppressed { return Suppressed{} }

// UntilTimeLimit holds each key's updates back until d of stream time has
// passed since the first of them, and then emits the latest; when more than
// maxRecords keys wait, the oldest are emitted early (Kafka Streams'
// maxRecords(n).emitEarlyWhenFull()). d and maxRecords must be constant; an
// unwindowed table needs maxRecords > 0, on a windowed one 0 is unbounded.
func UntilTimeLimit(d time.Duration, maxRecords int) Suppressed { return Suppressed{} }

// Suppress holds back a table's updates as s says.
func (t *KTable) Suppress(s Suppressed) *KTable { return t }
