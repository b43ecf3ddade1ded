package streams

import "time"

// Option adjusts a boundary step (a sink, a grouping, a repartition or a store):
// which serdes to use, or how an internal topic is named.
type Option interface{ isOption() }

// Serdes is a pair of serdes for keys and values, made by With.
type Serdes struct{ _ [0]func() }

func (Serdes) isOption() {}

// With pairs a key serde with a value serde. gofkagen reads the serde expressions
// and the types they handle. A serde expression may use only package-level names
// (a constructor from this package, a package-level variable, a composite
// literal, or a call to a package-level function), so that the generated code can
// name it; a call runs once, when the package is initialized.
func With[K, V any](key Serde[K], value Serde[V]) Serdes { return Serdes{} }

// Named sets the name an internal topic is derived from (a repartition topic is
// "<application id>-<name>-repartition").
type Named string

func (Named) isOption() {}

// WithTimestamp sets the source's timestamp extractor: extractor is a
// func(K, V) time.Time that gives each record read by this source its event
// time, in place of the Kafka record's timestamp (Kafka Streams'
// Consumed.withTimestampExtractor). Stream time, windows and the timestamps of
// the records derived from it follow the extracted time; a time before the Unix
// epoch makes the record bad (--on-bad-record). Only a source's serdes take it:
//
//	b.Stream(streams.With(streams.String(), streams.JSON[Click]()).WithTimestamp(clickTime), "clicks")
func (s Serdes) WithTimestamp(extractor any) Serdes { return s }

// WithWatermark gives the source a watermark, as Flink's bounded
// out-of-orderness strategy does: on each partition it reads, the watermark is
// the largest timestamp seen minus maxOutOfOrderness (minus 1 ms), and a task's
// watermark is the smallest over its input partitions, so windows close only
// once every partition has passed them. A partition with no record for
// idleTimeout (wall-clock time; 0 never) stops holding the others back until
// its next record. Downstream of a repartition topic, a task's watermark is the
// smallest of the watermarks the upstream tasks wrote into it. Both durations
// must be constants.
//
//	streams.With(streams.String(), streams.JSON[Click]()).WithTimestamp(clickTime).WithWatermark(5*time.Second, time.Minute)
func (s Serdes) WithWatermark(maxOutOfOrderness, idleTimeout time.Duration) Serdes { return s }
