package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

func TestClassify(t *testing.T) {
	running := context.Background()
	stopping, cancel := context.WithCancel(context.Background())
	cancel()
	record := &recordFailure{&runtime.RecordError{Topic: "in", Partition: 0, Offset: 7, Stage: "decode value", Err: errors.New("bad")}}
	other := errors.New("commit offsets: NOT_COORDINATOR")
	task12 := coordinator.TaskID{SubTopology: 1, Partition: 2}
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want verdict
	}{
		{"no error", running, nil, carryOn},
		{"no error while stopping", stopping, nil, carryOn},
		{"lease lost", running, errLeaseLost, dropTasks},
		{"lease lost, wrapped", running, fmt.Errorf("checkpoint 3: %w", errLeaseLost), dropTasks},
		{"lease lost while stopping", stopping, errLeaseLost, dropTasks},
		{"transaction aborted, no task", running, fmt.Errorf("produce: %w: %w", errTxnAborted, other), dropTasks},
		{"a task's transaction aborted", running, fmt.Errorf("checkpoint 4: %w", &taskFailure{task12, fmt.Errorf("%w: %w", errTxnAborted, other)}), dropTask},
		{"a task's transaction aborted, while stopping", stopping, &taskFailure{task12, errTxnAborted}, dropTask},
		{"a task's failure outside a transaction", running, &taskFailure{task12, other}, fail},
		{"transaction aborted at a checkpoint, while stopping", stopping, fmt.Errorf("checkpoint 4: %w", errTxnAborted), dropTasks},
		{"record failure", running, record, fail},
		{"record failure while stopping", stopping, fmt.Errorf("process: %w", record), fail},
		{"cancelled step while stopping", stopping, context.Canceled, leave},
		{"any error while stopping", stopping, other, leave},
		{"any error", running, other, fail},
		{"a deadline of the step's own", running, context.DeadlineExceeded, fail},
	} {
		if got := classify(c.ctx, c.err); got != c.want {
			t.Errorf("%s: classify(%v) = %s, want %s", c.name, c.err, got, c.want)
		}
	}
}

// Every task whose concurrent commit failed is found, however the failures
// are wrapped, so that each is rolled back.
func TestTaskFailuresIn(t *testing.T) {
	a, b := coordinator.TaskID{SubTopology: 0, Partition: 1}, coordinator.TaskID{SubTopology: 1, Partition: 2}
	other := errors.New("EndTxn timed out")
	joined := errors.Join(&taskFailure{a, fmt.Errorf("%w: %w", errTxnAborted, other)}, &taskFailure{b, errTxnAborted})
	for _, tc := range []struct {
		name string
		err  error
		want []coordinator.TaskID
	}{
		{"none", other, nil},
		{"one", &taskFailure{a, errTxnAborted}, []coordinator.TaskID{a}},
		{"two joined", joined, []coordinator.TaskID{a, b}},
		{"two joined, wrapped", fmt.Errorf("checkpoint 4: %w", joined), []coordinator.TaskID{a, b}},
	} {
		var got []coordinator.TaskID
		for _, tf := range taskFailuresIn(tc.err) {
			got = append(got, tf.task)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: tasks %v, want %v", tc.name, got, tc.want)
		}
		if len(tc.want) > 0 && classify(context.Background(), tc.err) != dropTask {
			t.Errorf("%s: not classified as dropTask", tc.name)
		}
	}
}
