package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// Rolling back one task (exactly-once): a transaction that cannot commit
// belongs to the one task whose producer it is (taskFailure), so that task
// alone goes back to its last commit while the others keep running:
//
//	abort its transaction and close its producer ─▶ forget it (closeTask: its input positions, caches with
//	the generated task, its RocksDB instance, then the instance's files) ─▶ reconcile starts it again:
//	new producer (InitProducerID: new epoch) ─▶ snapshot + committed changelog tail ─▶ inputs from the
//	committed offsets ─▶ the consumer is rebuilt over every running task's position
//
// A failure that belongs to no task, or to a task whose input partition
// another running task also reads (rewinding it would feed that task records
// twice), drops every task as before (discardTasks).

// rollbackTask rolls back the tasks err belongs to (one, or several whose
// commits failed together) and starts them again from committed state, unless
// ctx has ended (the graceful stop follows). Its error is that of starting
// them, for the loop to classify in turn.
func (e *Engine) rollbackTask(ctx context.Context, err error) error {
	// The other commits in flight finish first; those that failed are rolled
	// back with these.
	if serr := e.settleCommits(); serr != nil {
		if len(taskFailuresIn(serr)) == 0 {
			return serr // not a task's: the loop drops every task
		}
		err = errors.Join(err, serr)
	}
	ids, ok := e.dropFailedTasks(ctx, err)
	if !ok {
		return nil // every task was dropped; reconcile starts them at the next turn
	}
	if ctx.Err() == nil {
		err := e.reconcile(ctx, e.node.Mine())
		if err != nil || !slices.ContainsFunc(ids, func(k coordinator.TaskID) bool { return e.tasks[k] == nil }) {
			return err // started again (reconcile rebuilt the consumer), or failed to
		}
	}
	return e.rebuildConsumer() // without the tasks' inputs until they start
}

// dropFailedTasks drops every task a failure in err belongs to
// (dropFailedTask), and reports false when it had to drop every task instead.
func (e *Engine) dropFailedTasks(ctx context.Context, err error) ([]coordinator.TaskID, bool) {
	var ids []coordinator.TaskID
	for _, tf := range taskFailuresIn(err) {
		if !e.dropFailedTask(ctx, tf, err) {
			return nil, false
		}
		ids = append(ids, tf.task)
	}
	return ids, len(ids) > 0
}

// taskFailuresIn lists the task failures in err's tree (errors.Join of
// several, or one wrapped).
func taskFailuresIn(err error) []*taskFailure {
	switch x := err.(type) {
	case nil:
		return nil
	case *taskFailure:
		return []*taskFailure{x}
	case interface{ Unwrap() []error }:
		var out []*taskFailure
		for _, e := range x.Unwrap() {
			out = append(out, taskFailuresIn(e)...)
		}
		return out
	}
	return taskFailuresIn(errors.Unwrap(err))
}

// dropFailedTask drops the task of tf without committing anything more for
// it, and deletes its local state (it may hold updates of the aborted
// transaction: a cache eviction writes RocksDB mid-interval). It reports false
// when it had to drop every task instead (err says why).
func (e *Engine) dropFailedTask(ctx context.Context, tf *taskFailure, err error) bool {
	t := e.tasks[tf.task]
	if t == nil || e.sharesInput(t) {
		e.discardTasks(ctx, err.Error())
		return false
	}
	e.abortTxn(ctx, t)
	e.mu.Lock()
	for _, sp := range t.stores {
		// Acks of the aborted records moved these on; the restart sets them
		// from the changelog's committed end.
		delete(e.changelogs, topicPartition{sp.changelog, sp.partition})
	}
	e.mu.Unlock()
	inCheckpoint := e.ckpt.pending[t.id]
	pending := inCheckpoint && e.readsOnlyUserTopics(t)
	persistent := t.db != nil
	e.closeTask(t)
	if persistent {
		if err := e.pool.Remove(t.id.String()); err != nil {
			e.log.Warn("remove rolled-back task state", "task", t.id, "err", err)
		}
	}
	if pending {
		// Restarted at its committed offsets with its committed state, a task
		// reading only user topics is aligned at once for the checkpoint in
		// progress. One reading a repartition topic may have counted barriers
		// past its committed offsets, which its restored state does not
		// include: it does not ack this checkpoint (which then fails) rather
		// than snapshot state older than the barriers, and asks the
		// coordinator to abort it at once.
		e.ckpt.pending[t.id] = true
	} else if inCheckpoint {
		// It will not ack: have the coordinator abort the checkpoint now
		// rather than on its timeout.
		e.ckpt.abort(ctx, checkpointRecord{ID: e.ckpt.id, Task: t.id.String()}, t.id, "rollback",
			errors.New("task rolled back after a failed transaction, before its snapshot was taken"))
	}
	e.counts(t.id).rollbacks++
	e.log.Warn("transaction aborted: rolled back one task; it restarts from committed state",
		"task", t.id, "err", tf.err, "tasks_running", len(e.tasks))
	e.reportRunning()
	return true
}

// sharesInput reports whether another running task reads one of t's input
// partitions.
func (e *Engine) sharesInput(t *task) bool {
	for _, o := range e.tasks {
		if o == t {
			continue
		}
		for _, tp := range t.inputs {
			if slices.Contains(o.inputs, tp) {
				return true
			}
		}
	}
	return false
}

// readsOnlyUserTopics reports whether none of t's inputs is a repartition topic.
func (e *Engine) readsOnlyUserTopics(t *task) bool {
	for _, tp := range t.inputs {
		for _, ti := range e.topics {
			if ti.name == tp.topic && ti.kind == runtime.RepartitionTopic {
				return false
			}
		}
	}
	return true
}
