package streamstest

import "github.com/gofka/streams/runtime"

// CountingEmitter is a runtime.Emitter that counts the records a task emits
// and keeps none: the sink of allocation tests and benchmarks that run a
// generated task directly (SubTopologySpec.NewTask), without a driver.
type CountingEmitter struct{ N int }

// Emit counts one record.
func (c *CountingEmitter) Emit(runtime.TopicID, []byte, []byte, int64) { c.N++ }
