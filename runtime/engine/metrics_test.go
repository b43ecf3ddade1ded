package engine

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// TestLagOnlyOfInputsRead: the made-up partition franz-go reports a poll's time
// limit with (topic "", partition -1) makes no series, and a partition no
// longer read here loses its series.
func TestLagOnlyOfInputsRead(t *testing.T) {
	m := newMetrics()
	m.observeLag(kgo.FetchTopicPartition{FetchPartition: kgo.FetchPartition{Partition: -1, Err: context.DeadlineExceeded}})
	for _, p := range []int32{0, 1} {
		m.observeLag(kgo.FetchTopicPartition{Topic: "in", FetchPartition: kgo.FetchPartition{Partition: p, HighWatermark: 10,
			Records: []*kgo.Record{{Topic: "in", Partition: p, Offset: 6}}}})
	}
	e := &Engine{tasks: map[coordinator.TaskID]*task{
		{SubTopology: 0, Partition: 0}: {inputs: []topicPartition{{"in", 0}}},
		{SubTopology: 0, Partition: 1}: {inputs: []topicPartition{{"in", 1}}},
	}}
	lags := m.lagByTask(e)
	if lags["0_0"] != 3 || lags["0_1"] != 3 {
		t.Errorf("lag by task %v, want 3 for each", lags)
	}
	want := []string{`gofka_input_lag_records{partition="0",topic="in"} 3`, `gofka_input_lag_records{partition="1",topic="in"} 3`}
	if got := scrape(m.reg, "gofka_input_lag_records"); !slices.Equal(got, want) {
		t.Errorf("lag series %q, want %q", got, want)
	}
	delete(e.tasks, coordinator.TaskID{SubTopology: 0, Partition: 1})
	m.lagByTask(e)
	if got := scrape(m.reg, "gofka_input_lag_records"); !slices.Equal(got, want[:1]) {
		t.Errorf("lag series %q once partition 1 is not read, want %q", got, want[:1])
	}
}

// scrape returns the samples /metrics serves whose name starts with prefix.
func scrape(reg *prometheus.Registry, prefix string) []string {
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	var out []string
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestBadRecordsCounted: skipped and dead-lettered records are counted per
// input partition, in /metrics and in what /status shows.
func TestBadRecordsCounted(t *testing.T) {
	e := &Engine{cfg: Config{OnBadRecord: Skip}, metrics: newMetrics(), status: &statusServer{}}
	e.countBad(&runtime.Record{Topic: "in", Partition: 2}, "decode value")
	e.countBad(&runtime.Record{Topic: "in", Partition: 2}, "decode key")
	e.countBad(&runtime.Record{Topic: "in", Partition: 0}, "decode value")
	e.cfg.OnBadRecord = DeadLetter
	e.countBad(&runtime.Record{Topic: "in", Partition: 2}, "decode value")
	want := []string{
		`gofka_skipped_records_total{partition="0",reason="decode_value",topic="in"} 1`,
		`gofka_skipped_records_total{partition="2",reason="decode_key",topic="in"} 1`,
		`gofka_skipped_records_total{partition="2",reason="decode_value",topic="in"} 1`,
	}
	if got := scrape(e.metrics.reg, "gofka_skipped_records_total"); !slices.Equal(got, want) {
		t.Errorf("skipped series %q, want %q", got, want)
	}
	want = []string{`gofka_dead_lettered_records_total{partition="2",topic="in"} 1`}
	if got := scrape(e.metrics.reg, "gofka_dead_lettered_records_total"); !slices.Equal(got, want) {
		t.Errorf("dead-lettered series %q, want %q", got, want)
	}
	e.publishView(nil)
	v := e.status.view
	if v.Skipped != 3 || v.DeadLettered != 1 {
		t.Errorf("/status counts %d skipped, %d dead-lettered; want 3 and 1", v.Skipped, v.DeadLettered)
	}
	wantView := []badRecordView{{Topic: "in", Partition: 0, Skipped: 1}, {Topic: "in", Partition: 2, Skipped: 2, DeadLettered: 1}}
	if len(v.BadRecords) != 2 || v.BadRecords[0] != wantView[0] || v.BadRecords[1] != wantView[1] {
		t.Errorf("/status bad_records %+v, want %+v", v.BadRecords, wantView)
	}
}

// TestLateRecordsCounted: the late records a task's generated code counts in
// its TaskContext.Late reach /metrics (per task, as deltas at each publication)
// and /status.
func TestLateRecordsCounted(t *testing.T) {
	e := &Engine{metrics: newMetrics(), status: &statusServer{}, taskCounts: map[coordinator.TaskID]*taskCount{}}
	id := coordinator.TaskID{SubTopology: 0, Partition: 1}
	tk := &task{id: id, t: &copyTask{}}
	e.tasks = map[coordinator.TaskID]*task{id: tk}
	for range 3 {
		tk.late.Inc()
	}
	e.publishView(nil)
	if got, want := scrape(e.metrics.reg, "gofka_late_records_total"), []string{`gofka_late_records_total{task="0_1"} 3`}; !slices.Equal(got, want) {
		t.Errorf("late series %q, want %q", got, want)
	}
	tk.late.Inc()
	tk.late.Inc()
	e.publishView(nil)
	if got, want := scrape(e.metrics.reg, "gofka_late_records_total"), []string{`gofka_late_records_total{task="0_1"} 5`}; !slices.Equal(got, want) {
		t.Errorf("late series %q after 2 more, want %q", got, want)
	}
	if v := e.status.view; len(v.Tasks) != 1 || v.Tasks[0].LateRecords != 5 {
		t.Errorf("/status tasks %+v, want one with late_records 5", v.Tasks)
	}
}
