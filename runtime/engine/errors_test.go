package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
)

func TestClassify(t *testing.T) {
	running := context.Background()
	stopping, cancel := context.WithCancel(context.Background())
	cancel()
	record := &recordFailure{&runtime.RecordError{Topic: "in", Partition: 0, Offset: 7, Stage: "decode value", Err: errors.New("bad")}}
	other := errors.New("commit offsets: NOT_COORDINATOR")
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
		{"transaction aborted", running, fmt.Errorf("task 1_2: %w: %w", errTxnAborted, other), dropTasks},
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
