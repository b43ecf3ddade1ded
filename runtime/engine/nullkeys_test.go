package engine

import (
	"slices"
	"testing"

	"github.com/gofka/streams/coordinator"
)

// TestNullKeyRecordsCounted: the records a task's generated code drops for a
// null key (TaskContext.NullKeys) reach /metrics as
// gofka_dropped_records_total{reason="null-key"} and /status.
func TestNullKeyRecordsCounted(t *testing.T) {
	e := &Engine{metrics: newMetrics(), status: &statusServer{}, taskCounts: map[coordinator.TaskID]*taskCount{}}
	id := coordinator.TaskID{SubTopology: 1, Partition: 2}
	tk := &task{id: id, t: &copyTask{}}
	e.tasks = map[coordinator.TaskID]*task{id: tk}
	tk.nullKeys.Inc()
	tk.nullKeys.Inc()
	e.publishView(nil)
	tk.nullKeys.Inc()
	e.publishView(nil)
	if got, want := scrape(e.metrics.reg, "gofka_dropped_records_total"), []string{`gofka_dropped_records_total{reason="null-key",task="1_2"} 3`}; !slices.Equal(got, want) {
		t.Errorf("dropped series %q, want %q", got, want)
	}
	if v := e.status.view; len(v.Tasks) != 1 || v.Tasks[0].NullKeyRecords != 3 {
		t.Errorf("/status tasks %+v, want one with null_key_records 3", v.Tasks)
	}
}
