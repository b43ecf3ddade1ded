package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofka/streams/coordinator"
)

// Every step of the loop (events, poll, process, checkpoint, commit, reconcile)
// returns its error to the loop, which classifies it here: each kind of error is
// then handled in one place, the same way whichever step met it.

// errLeaseLost: the lease ran out while tasks were writing, or this replica was
// found not to hold it any more. Another replica may own the tasks now, so
// nothing more may be written or committed for them: the loop drops every task
// (discardTasks).
var errLeaseLost = errors.New("the coordinator lease ran out")

// recordFailure is a record that could not be processed: a user function
// panicked, or a record could not be decoded under --on-bad-record fail. What
// came before it is committed, then the engine stops with the error.
type recordFailure struct{ err error }

func (f *recordFailure) Error() string { return f.err.Error() }
func (f *recordFailure) Unwrap() error { return f.err }

// taskFailure is an error that belongs to one task: under exactly-once its
// transaction could not commit (errTxnAborted inside), so that task alone is
// rolled back (rollback.go) while the others keep running.
type taskFailure struct {
	task coordinator.TaskID
	err  error
}

func (f *taskFailure) Error() string { return fmt.Sprintf("task %s: %v", f.task, f.err) }
func (f *taskFailure) Unwrap() error { return f.err }

// verdict is what the loop does after a step.
type verdict int

const (
	carryOn   verdict = iota // no error: next turn
	dropTask                 // one task's transaction aborted: roll that task back and restart it, then carry on
	dropTasks                // the lease was lost: drop every task without writing, then carry on
	leave                    // the engine is stopping: leave the loop for the graceful stop
	fail                     // anything else: stop the engine with the error
)

func (v verdict) String() string {
	return [...]string{"carry on", "drop task", "drop tasks", "leave", "fail"}[v]
}

// classify says what the loop does with err, returned by a step run under ctx.
// The order matters:
//   - a record's failure stops the engine even while it is stopping anyway:
//     exiting 0 would hide a record that fails again at every start;
//   - a lost lease drops the tasks even while stopping: the graceful stop must
//     not commit for tasks another replica may own;
//   - an aborted transaction (exactly-once) drops the task it belongs to, or
//     every task when it belongs to none (a produce error of the shared
//     producer), even while stopping: their state may hold its updates, and
//     the producer that failed is never used again;
//   - any other error met once ctx is done is the stop interrupting the step
//     (a cancelled fetch, commit or checkpoint): the graceful stop finishes it.
func classify(ctx context.Context, err error) verdict {
	var rf *recordFailure
	switch {
	case err == nil:
		return carryOn
	case errors.As(err, &rf):
		return fail
	case errors.Is(err, errLeaseLost):
		return dropTasks
	case errors.Is(err, errTxnAborted) && errors.As(err, new(*taskFailure)):
		return dropTask
	case errors.Is(err, errTxnAborted):
		return dropTasks
	case ctx.Err() != nil:
		return leave
	default:
		return fail
	}
}
