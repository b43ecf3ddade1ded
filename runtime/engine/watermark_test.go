package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// markTask records the watermarks a runner hands it.
type markTask struct {
	copyTask
	marks []int64
}

func (t *markTask) AdvanceWatermark(ms int64) error {
	t.marks = append(t.marks, ms)
	return nil
}

// watermarkEngine is an engine with two sub-topologies: 0 reads topics "a" and
// "b" (2 partitions each; "a" with 5 s out-of-orderness and a 1 min idle
// timeout, "b" with neither) and writes repartition topic "r" (2 partitions),
// which sub-topology 1 reads.
func watermarkEngine() *Engine {
	e := &Engine{
		prog: &runtime.Program{SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{
				{Topics: []runtime.TopicID{0}, Watermark: &runtime.WatermarkSpec{MaxOutOfOrderness: 5 * time.Second, IdleTimeout: time.Minute}},
				{Topics: []runtime.TopicID{1}},
			}, Sinks: []runtime.TopicID{2}},
			{ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{2}}}},
		}},
		topics: []*topicInfo{{name: "a", kind: runtime.SourceTopic, partitions: 2}, {name: "b", kind: runtime.SourceTopic, partitions: 2},
			{name: "r", kind: runtime.RepartitionTopic, partitions: 2}},
		parts:  []int32{2, 2},
		routes: map[string][]route{"a": {{0, 0}}, "b": {{0, 1}}, "r": {{1, 0}}},
		tasks:  map[coordinator.TaskID]*task{},
	}
	e.wm = newWatermarks(e)
	return e
}

func (e *Engine) startMarkTask(id coordinator.TaskID, inputs ...topicPartition) *markTask {
	mt := &markTask{}
	t := &task{id: id, t: mt, inputs: inputs}
	e.tasks[id] = t
	e.wm.start(t, runtime.NoTimestamp)
	return mt
}

func records(ts ...int64) []runtime.Record {
	out := make([]runtime.Record, len(ts))
	for i, ms := range ts {
		out[i].Timestamp = ms
	}
	return out
}

// TestWatermarkIsTheSmallestOverInputs: a task's watermark is the smallest of
// its inputs' (largest timestamp − out-of-orderness − 1 ms), waits for every
// input, never goes back, and leaves an idle input out.
func TestWatermarkIsTheSmallestOverInputs(t *testing.T) {
	e := watermarkEngine()
	id := coordinator.TaskID{SubTopology: 0, Partition: 0}
	mt := e.startMarkTask(id, topicPartition{"a", 0}, topicPartition{"b", 0})
	now := time.Now()
	advance := func(tp topicPartition, batch []runtime.Record, at time.Time) {
		t.Helper()
		e.wm.read(tp, batch, at)
		if err := e.wm.advance(e.tasks[id], at); err != nil {
			t.Fatal(err)
		}
	}
	advance(topicPartition{"a", 0}, records(10_000, 30_000, 20_000), now)
	if len(mt.marks) != 0 {
		t.Fatalf("watermark %v before input b has a record: want none", mt.marks)
	}
	advance(topicPartition{"b", 0}, records(40_000), now)
	// a: 30,000 − 5,000 − 1; b (no option): 40,000 − 1.
	if want := []int64{24_999}; !equal(mt.marks, want) {
		t.Fatalf("watermarks %v, want %v", mt.marks, want)
	}
	advance(topicPartition{"a", 0}, records(25_000), now) // out of order: no change
	advance(topicPartition{"a", 0}, records(50_000), now)
	if want := []int64{24_999, 39_999}; !equal(mt.marks, want) {
		t.Fatalf("watermarks %v, want %v", mt.marks, want)
	}
	// Only b moves on; a minute later a is idle and no longer holds it back.
	advance(topicPartition{"b", 0}, records(90_000), now.Add(time.Minute))
	if want := []int64{24_999, 39_999, 89_999}; !equal(mt.marks, want) {
		t.Fatalf("watermarks %v, want %v (input a idle)", mt.marks, want)
	}
	if got := e.wm.of(id); got != 89_999 {
		t.Errorf("of(%v) = %d, want 89999", id, got)
	}
}

// TestWatermarkThroughRepartition: a downstream task's watermark is the
// smallest of what every upstream task announced into its partition, idle
// upstream tasks left out, and it waits until every upstream task was heard.
func TestWatermarkThroughRepartition(t *testing.T) {
	e := watermarkEngine()
	if got := e.wm.writers["r"]; got != 2 {
		t.Fatalf("writers of r: %d, want 2 (sub-topology 0 has 2 tasks)", got)
	}
	id := coordinator.TaskID{SubTopology: 1, Partition: 1}
	mt := e.startMarkTask(id, topicPartition{"r", 1})
	tp := topicPartition{"r", 1}
	announce := func(from string, ms string, idle bool) {
		t.Helper()
		r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: watermarkHeader, Value: []byte(ms)}, {Key: senderHeader, Value: []byte(from)}}}
		if idle {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: idleHeader})
		}
		e.wm.control(tp, r)
		if err := e.wm.advance(e.tasks[id], time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	announce("0_0", "5000", false)
	if len(mt.marks) != 0 {
		t.Fatalf("watermark %v with one of two upstream tasks heard: want none", mt.marks)
	}
	announce("0_1", "3000", false)
	announce("0_0", "9000", false)
	if want := []int64{3000}; !equal(mt.marks, want) {
		t.Fatalf("watermarks %v, want %v", mt.marks, want)
	}
	announce("0_1", "3000", true) // 0_1's inputs went idle
	if want := []int64{3000, 9000}; !equal(mt.marks, want) {
		t.Fatalf("watermarks %v, want %v (idle upstream left out)", mt.marks, want)
	}
}

func equal(a, b []int64) bool { return slices.Equal(a, b) }
