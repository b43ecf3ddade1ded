package engine

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/runtime"
)

// A task's stream time (the largest timestamp it has read, runtime.Task's
// StreamTime) travels with its committed input offsets, as Kafka Streams keeps
// partition time in the offset metadata: whoever starts the task next, here or
// on another replica, resumes windows and grace at the time the committed
// offsets stand for, not at the first record it happens to read.
//
//	commit ─▶ offset metadata "gofka-stream-time=<ms>" on each input partition
//	startTask ─▶ committed offsets ─▶ max over the inputs ─▶ TaskContext.StreamTime

const streamTimeKey = "gofka-stream-time="

// streamTimeMetadata is the offset metadata that records stream time ms.
func streamTimeMetadata(ms int64) string {
	if ms == runtime.NoTimestamp {
		return ""
	}
	return streamTimeKey + strconv.FormatInt(ms, 10)
}

// parseStreamTime reads stream time from offset metadata, or NoTimestamp.
func parseStreamTime(metadata string) int64 {
	v, ok := strings.CutPrefix(metadata, streamTimeKey)
	if !ok {
		return runtime.NoTimestamp
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return runtime.NoTimestamp
	}
	return ms
}

// committedStreamTime is the stream time a task resumes at: the largest
// recorded with the committed offsets of its input partitions.
func committedStreamTime(committed kadm.OffsetResponses, inputs []topicPartition) int64 {
	st := runtime.NoTimestamp
	for _, tp := range inputs {
		if o, ok := committed.Lookup(tp.topic, tp.partition); ok && o.Err == nil {
			st = max(st, parseStreamTime(o.Metadata))
		}
	}
	return st
}
