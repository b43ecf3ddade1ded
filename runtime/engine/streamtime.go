package engine

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/runtime"
)

// A task's stream time (the largest timestamp it has read, runtime.Task's
// StreamTime) and its watermark (watermark.go) travel with its committed input
// offsets, as Kafka Streams keeps partition time in the offset metadata:
// whoever starts the task next, here or on another replica, resumes windows
// and grace at the time the committed offsets stand for, not at the first
// record it happens to read.
//
//	commit ─▶ offset metadata "gofka-stream-time=<ms>[;gofka-watermark=<ms>]" on each input partition
//	startTask ─▶ committed offsets ─▶ max over the inputs ─▶ TaskContext.StreamTime, .Watermark

const (
	streamTimeKey = "gofka-stream-time="
	watermarkKey  = "gofka-watermark="
)

// taskTime is what a task's committed offsets say of its time.
type taskTime struct{ stream, watermark int64 }

// metadata is the offset metadata that records tt.
func (tt taskTime) metadata() string {
	var parts []string
	if tt.stream != runtime.NoTimestamp {
		parts = append(parts, streamTimeKey+strconv.FormatInt(tt.stream, 10))
	}
	if tt.watermark != runtime.NoTimestamp {
		parts = append(parts, watermarkKey+strconv.FormatInt(tt.watermark, 10))
	}
	return strings.Join(parts, ";")
}

// parseTaskTime reads offset metadata; what it does not hold is NoTimestamp.
func parseTaskTime(metadata string) taskTime {
	tt := taskTime{runtime.NoTimestamp, runtime.NoTimestamp}
	for part := range strings.SplitSeq(metadata, ";") {
		for key, field := range map[string]*int64{streamTimeKey: &tt.stream, watermarkKey: &tt.watermark} {
			if v, ok := strings.CutPrefix(part, key); ok {
				if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
					*field = ms
				}
			}
		}
	}
	return tt
}

// committedTaskTime is the time a task resumes at: the largest recorded with
// the committed offsets of its input partitions.
func committedTaskTime(committed kadm.OffsetResponses, inputs []topicPartition) taskTime {
	tt := taskTime{runtime.NoTimestamp, runtime.NoTimestamp}
	for _, tp := range inputs {
		if o, ok := committed.Lookup(tp.topic, tp.partition); ok && o.Err == nil {
			c := parseTaskTime(o.Metadata)
			tt.stream, tt.watermark = max(tt.stream, c.stream), max(tt.watermark, c.watermark)
		}
	}
	return tt
}

// timeOf is task t's time as it commits it now.
func (e *Engine) timeOf(t *task) taskTime {
	return taskTime{t.t.StreamTime(), e.wm.of(t.id)}
}
