package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gofka/streams/state/rocks"
)

// Committing transactions without stopping the loop (exactly-once). The
// interval commit does on the loop only what touches a task's state: the
// caches flushed (Task.Flush: RocksDB and changelog records, in the open
// transaction) and the transactional offset commit built from the processed
// positions. The rest of each task's commit runs on a goroutine of its own:
//
//	loop:       Task.Flush ─▶ build TxnOffsetCommit ─▶ (go) ─▶ poll, process other tasks …
//	goroutine:  producer Flush (acks) ─▶ changelog offsets into RocksDB ─▶ AddOffsetsToTxn
//	              ─▶ TxnOffsetCommit ─▶ EndTxn ─▶ BeginTransaction
//
// A producer cannot produce between EndTxn and the next BeginTransaction, and
// a task's state must not move while its transaction is undecided, so the
// loop waits for a task's commit (settleTask) before it gives the task a
// record or a punctuation; everything that touches several tasks at once (a
// coordinator event, a checkpoint's alignment, watermarks, the next commit,
// stopping, dropping or rolling back tasks) waits for all of them
// (settleCommits). The tasks' transactions are independent, so the loop goes
// on with the tasks whose commits finished while the others' EndTxn are in
// flight. A failed commit is reported when it is settled, as the task's
// failure, and the loop rolls that task back as before (rollback.go). The
// commits of tasks aligned for a checkpoint are begun the same way
// (beginAlignedCommits), each with an action run when it is settled (the
// task's RocksDB checkpoint, checkpoint.go), so that the snapshot holds the
// committed state and nothing of the next transaction. The synchronous commits
// (tasks moving away, the graceful stop) are the same begun and settled at once.

// txnCommit is a task's transaction committing in the background.
type txnCommit struct {
	done    chan struct{}
	err     error        // set before done is closed
	took    commitTimes  // the goroutine's phases
	offsets kadm.Offsets // the input offsets the transaction commits
	// after, if set, runs on the loop when the commit is settled, with its
	// outcome, before the task is given anything else (a checkpoint-aligned
	// task's RocksDB checkpoint, checkpoint.go).
	after func(err error)
}

// beginTxnCommits starts committing the transactions of tasks (under
// exactly-once); settleCommits waits for them. Tasks that produced nothing
// have their offsets committed outside any transaction, here: EndTransaction
// ends only transactions that added partitions, so one holding offsets alone
// would be left open.
func (e *Engine) beginTxnCommits(ctx context.Context, tasks []*task) error {
	if err := e.settleCommits(); err != nil {
		return err
	}
	// What the last round committed may go from the repartition topics.
	e.purgeRepartitions(ctx, e.txnCommitted)
	e.txnCommitted = nil
	return e.beginTxns(ctx, tasks, nil)
}

// beginAlignedCommits starts committing the transactions of tasks aligned for
// a checkpoint, whose own commits are settled, while other tasks' commits may
// still be in flight; after(t), if it gives an action, runs when t's commit is
// settled (and at once, with nil, for a task whose offsets were committed
// outside a transaction). What the commits settled so far committed may go
// from the repartition topics (with --commit-interval 1h only checkpoints
// commit).
func (e *Engine) beginAlignedCommits(ctx context.Context, tasks []*task, after func(*task) func(error)) error {
	e.purgeRepartitions(ctx, e.txnCommitted)
	e.txnCommitted = nil
	return e.beginTxns(ctx, tasks, after)
}

// beginTxns is the part of beginTxnCommits after the last round settled: the
// tasks' caches flushed on the loop, their transactions committing off it.
func (e *Engine) beginTxns(ctx context.Context, tasks []*task, after func(*task) func(error)) error {
	took := commitTimes{}
	start := time.Now()
	if !e.node.LeaseHeld() || e.fencedWrites > 0 {
		return errLeaseLost
	}
	for _, t := range tasks {
		if t.txnRecords > 0 && faultFlush.hit() {
			return e.abortedOnLoop(ctx, &taskFailure{t.id, fmt.Errorf("flush: %w", faultFlush.err())})
		}
		if err := t.t.Flush(); err != nil {
			return e.abortedOnLoop(ctx, &taskFailure{t.id, fmt.Errorf("flush: %w", err)})
		}
	}
	took.caches = time.Since(start)
	if e.fencedWrites > 0 {
		return errLeaseLost // a flush's changelog write was dropped
	}
	// Each commit's context ends 30 s after it began, whatever ctx does: a
	// commit once begun is finished even when the graceful stop comes in the
	// middle of it (a transaction cut short, in its acks or between
	// TxnOffsetCommit and EndTxn, would have to be thrown away, and its task
	// with it), and the graceful stop's commit settles it.
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	var plain []*task
	running := 0
	for _, t := range tasks {
		if t.txnRecords == 0 {
			plain = append(plain, t)
			continue
		}
		c := &txnCommit{done: make(chan struct{}), offsets: e.inputOffsets([]*task{t})}
		if after != nil {
			c.after = after(t)
		}
		t.committing = c
		req := e.txnOffsetsRequest(t) // from the positions, which the loop owns
		running++
		e.pendingCommits++
		go func() {
			defer close(c.done)
			c.err = e.finishTxn(commitCtx, t, req, &c.took)
		}()
	}
	if running == 0 {
		cancel()
	} else {
		e.cancelCommits = append(e.cancelCommits, cancel)
	}
	if e.pendingCommits == running {
		e.commitStarted, e.commitTook = start, took // a new round
	} else {
		e.commitTook.caches += took.caches // joins the round in flight
	}
	if err := e.commitPlainOffsets(ctx, plain); err != nil {
		return err
	}
	for _, t := range plain {
		if after != nil {
			if fn := after(t); fn != nil {
				fn(nil)
			}
		}
	}
	return nil
}

// abortedOnLoop marks a failure met on the loop while committing as an
// aborted transaction, unless the graceful stop ended ctx (it flushes again)
// or the lease was lost.
func (e *Engine) abortedOnLoop(ctx context.Context, err error) error {
	if !errors.Is(err, errLeaseLost) && ctx.Err() == nil {
		return txnAborted(err)
	}
	return err
}

// commitPlainOffsets commits the input offsets of tasks outside any
// transaction.
func (e *Engine) commitPlainOffsets(ctx context.Context, tasks []*task) error {
	offsets := e.inputOffsets(tasks)
	if len(offsets) == 0 {
		return nil
	}
	if err := e.commitOffsets(ctx, offsets); err != nil {
		return err
	}
	offsets.Each(e.txnCommitted.Add)
	return nil
}

// finishTxn is the part of a task's commit that runs off the loop: every
// produce acknowledged, the changelog offsets recorded in the task's state,
// the input offsets added to the transaction, and the transaction committed.
// It reads nothing the loop writes, except under Engine.mu.
func (e *Engine) finishTxn(ctx context.Context, t *task, req *kmsg.TxnOffsetCommitRequest, took *commitTimes) error {
	lap := time.Now()
	if err := t.producer.Flush(ctx); err != nil {
		return &taskFailure{t.id, txnAborted(fmt.Errorf("wait for produce acks: %w", err))}
	}
	took.acks = time.Since(lap)
	e.mu.Lock()
	perr := t.produceErr
	offsets := map[rocks.StorePartition]int64{}
	for _, sp := range t.stores {
		if !sp.spec.Persistent {
			continue
		}
		if o, ok := e.changelogs[topicPartition{sp.changelog, sp.partition}]; ok {
			offsets[rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = o
		}
	}
	e.mu.Unlock()
	if perr != nil {
		return &taskFailure{t.id, txnAborted(perr)} // nothing is committed past records whose output was lost
	}
	if t.db != nil {
		if err := t.db.SetChangelogOffsets(offsets); err != nil {
			return fmt.Errorf("record changelog offsets of task %s: %w", t.id, err)
		}
	}
	lap = time.Now()
	if err := e.addTxnOffsets(ctx, t, req, took); err != nil {
		return &taskFailure{t.id, fmt.Errorf("%w: %w", errTxnAborted, err)}
	}
	if err := e.endTxn(ctx, t, took); err != nil {
		return &taskFailure{t.id, fmt.Errorf("%w: %w", errTxnAborted, err)}
	}
	took.txns = time.Since(lap)
	return nil
}

// finished reports whether the commit is over (without waiting).
func (c *txnCommit) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// settleTask waits for t's commit, if one is in flight, and returns its
// failure.
func (e *Engine) settleTask(t *task) error {
	c := t.committing
	if c == nil {
		return nil
	}
	select {
	case <-c.done:
	default:
		wait := time.Now()
		<-c.done
		e.commitTook.waited += time.Since(wait)
	}
	t.committing = nil
	e.noteSettled(t, c)
	if c.after != nil {
		c.after(c.err)
	}
	return c.err
}

// settleFinished settles the commits that have finished, without waiting for
// the others: a checkpoint-aligned task's snapshot (its commit's after action)
// must not wait for the task's next record, which may come only from another
// task's next commit.
func (e *Engine) settleFinished() error {
	if e.pendingCommits == 0 {
		return nil
	}
	var errs []error
	for _, t := range e.tasks {
		if t.committing != nil && t.committing.finished() {
			if err := e.settleTask(t); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// settleCommits waits for every commit in flight and returns their failures
// (errors.Join: each failed task is rolled back).
func (e *Engine) settleCommits() error {
	var errs []error
	for _, t := range e.tasks {
		if err := e.settleTask(t); err != nil {
			errs = append(errs, err)
		}
	}
	if e.pendingCommits == 0 {
		for _, cancel := range e.cancelCommits {
			cancel()
		}
		e.cancelCommits = e.cancelCommits[:0]
	}
	return errors.Join(errs...)
}

// noteSettled accounts for a commit that finished: a committed transaction
// starts the task's count of records afresh, and when the last commit of a
// round finished, the round's phases are logged.
func (e *Engine) noteSettled(t *task, c *txnCommit) {
	if c.err == nil {
		t.txnRecords = 0
		c.offsets.Each(e.txnCommitted.Add)
	}
	e.pendingCommits--
	took := &e.commitTook
	took.txnTasks++
	took.acks = max(took.acks, c.took.acks)
	took.txns = max(took.txns, c.took.txns)
	if c.took.add+c.took.offsets+c.took.end+c.took.begin > took.add+took.offsets+took.end+took.begin {
		took.add, took.offsets, took.end, took.begin = c.took.add, c.took.offsets, c.took.end, c.took.begin
	}
	if e.pendingCommits == 0 {
		e.metrics.commit.Observe(time.Since(e.commitStarted).Seconds())
		took.log(e.log, took.txnTasks, e.commitStarted)
		e.commitTook = commitTimes{}
	}
}
