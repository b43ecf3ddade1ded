package streamstest_test

import (
	"testing"
	"time"

	streams "github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// tickingSplit is the word count's split task that also acts on wall-clock
// time: each Punctuate emits the word "tick", stamped with the time given.
type tickingSplit struct {
	*splitTask
	seen []int64
}

func (t *tickingSplit) Punctuate(now int64) error {
	t.seen = append(t.seen, now)
	t.out.Emit(topicRepartition, []byte("tick"), []byte("+"), now)
	return nil
}

// TestAdvanceWallClockTime: advancing the driver's wall clock gives the new
// time to every task that is a runtime.Punctuator (here the two split tasks,
// not the count tasks), processes what they emit through the repartition topic
// like piped records, and leaves the record clock alone.
func TestAdvanceWallClockTime(t *testing.T) {
	var violations []string
	p := wordCount(&violations, 2)
	var splits []*tickingSplit
	p.SubTopologies[0].NewTask = func(ctx runtime.TaskContext) runtime.Task {
		s := &tickingSplit{splitTask: &splitTask{out: ctx.Out}}
		splits = append(splits, s)
		return s
	}
	d := streamstest.NewDriver(p, streamstest.WithPartitions(2), streamstest.WithStartTime(1000))
	counts := streamstest.Output(d, "word-counts", streams.String(), streams.Int64())

	if err := d.AdvanceWallClockTime(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := d.WallClockTime(); got != 6000 {
		t.Errorf("WallClockTime = %d, want 6000", got)
	}
	if got := d.Now(); got != 1000 {
		t.Errorf("Now = %d after advancing the wall clock, want 1000: record time is apart", got)
	}
	for i, s := range splits {
		if len(s.seen) != 1 || s.seen[0] != 6000 {
			t.Errorf("split task %d was given %v, want [6000]", i, s.seen)
		}
	}
	recs, err := counts.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Key != "tick" || recs[0].Value != 1 || recs[1].Value != 2 || recs[1].Timestamp != 6000 {
		t.Errorf("word-counts = %+v, want tick 1 then tick 2, at 6000", recs)
	}

	if err := d.AdvanceWallClockTime(-time.Second); err == nil {
		t.Error("moving the wall clock back was accepted")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.AdvanceWallClockTime(time.Second); err == nil {
		t.Error("advancing a closed driver's wall clock was accepted")
	}
	if len(violations) > 0 {
		t.Errorf("partitioning: %v", violations)
	}
}
