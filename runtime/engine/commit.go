package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/state/rocks"
)

// Committing is the one place where processed input becomes durable, at the
// commit interval, when tasks move away (stopTasks), at a graceful stop and
// after a record's failure. At-least-once needs this order:
//
//	Task.Flush (typed caches ─▶ RocksDB + changelog) ─▶ every produce acknowledged
//	  ─▶ changelog offsets recorded in each task's RocksDB ─▶ input offsets committed
//
// Under exactly-once commitTasks commits each task's transaction, its input
// offsets inside it (eos.go); a transaction that cannot commit is aborted and
// the loop rolls back the task it belongs to (rollback.go). Nothing else commits.

// commit makes everything the running tasks processed durable.
func (e *Engine) commit(ctx context.Context) error {
	return e.commitTasks(ctx, e.runningTasks())
}

// commitInterval is the loop's commit every commit interval: under
// exactly-once the transactions finish committing off the loop
// (txncommit.go), and the loop settles them before it next needs them.
func (e *Engine) commitInterval(ctx context.Context) error {
	if e.cfg.ExactlyOnce {
		return e.beginTxnCommits(ctx, e.runningTasks())
	}
	return e.commit(ctx)
}

func (e *Engine) runningTasks() []*task {
	tasks := make([]*task, 0, len(e.tasks))
	for _, t := range e.tasks {
		tasks = append(tasks, t)
	}
	return tasks
}

// commitTasks makes everything the given tasks processed durable, in the order
// at-least-once needs: state to RocksDB and changelogs, every produce
// acknowledged, changelog offsets recorded in each task's state, and only then
// input offsets committed. Under exactly-once it commits the tasks'
// transactions and waits for them.
func (e *Engine) commitTasks(ctx context.Context, tasks []*task) error {
	if e.cfg.ExactlyOnce {
		if err := e.beginTxnCommits(ctx, tasks); err != nil {
			return errors.Join(err, e.settleCommits())
		}
		return e.settleCommits()
	}
	var took commitTimes
	start := time.Now()
	if err := e.flushTimed(ctx, tasks, &took); err != nil {
		return err // the graceful stop (ctx ended) flushes again
	}
	defer took.log(e.log, len(tasks), start)
	offsets := e.inputOffsets(tasks)
	if len(offsets) > 0 {
		if err := e.commitOffsets(ctx, offsets); err != nil {
			return err
		}
	}
	e.metrics.commit.Observe(time.Since(start).Seconds())
	e.purgeRepartitions(ctx, offsets)
	return nil
}

// inputOffsets are the processed positions of the tasks' inputs, to commit.
func (e *Engine) inputOffsets(tasks []*task) kadm.Offsets {
	var offsets kadm.Offsets
	for _, t := range tasks {
		md := e.timeOf(t).metadata()
		for _, tp := range t.inputs {
			if at, ok := e.positions[tp]; ok && at >= 0 {
				offsets.Add(kadm.Offset{Topic: tp.topic, Partition: tp.partition, At: at, LeaderEpoch: -1, Metadata: md})
			}
		}
	}
	return offsets
}

// txnAborted marks err, met while committing under exactly-once, as an
// aborted transaction: of one task when err is that task's failure.
func txnAborted(err error) error {
	if tf, ok := errors.AsType[*taskFailure](err); ok {
		return &taskFailure{tf.task, fmt.Errorf("%w: %w", errTxnAborted, tf.err)}
	}
	return fmt.Errorf("%w: %w", errTxnAborted, err)
}

// commitOffsets commits input offsets for the application's group. Retriable
// failures (a leader moving, metadata catching up) are retried with backoff,
// and so is a group coordinator that cannot be reached (a broker restarting:
// kgo gives up dialing it before the controller has moved the coordinator);
// the offsets stay uncommitted until one attempt succeeds.
func (e *Engine) commitOffsets(ctx context.Context, offsets kadm.Offsets) error {
	for attempt := 1; ; attempt++ {
		resp, err := e.adm.CommitOffsets(ctx, e.cfg.AppID, offsets)
		if err == nil {
			err = resp.Error()
		}
		if err == nil {
			return nil
		}
		if attempt == 10 || !(kerr.IsRetriable(err) || unreachable(err)) || ctx.Err() != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
		e.log.Warn("commit offsets failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// flushTasks writes the tasks' cached state to their stores and changelogs,
// waits until every produce is acknowledged, and records in each task's state
// the changelog offsets its stores now cover.
func (e *Engine) flushTasks(ctx context.Context, tasks []*task) error {
	return e.flushTimed(ctx, tasks, &commitTimes{})
}

// flushTimed is flushTasks, timing its phases in took.
func (e *Engine) flushTimed(ctx context.Context, tasks []*task, took *commitTimes) error {
	if !e.node.LeaseHeld() || e.fencedWrites > 0 {
		return errLeaseLost
	}
	start := time.Now()
	defer func() { took.acks = time.Since(start) - took.caches }()
	for _, t := range tasks {
		if t.txnRecords > 0 && faultFlush.hit() {
			return &taskFailure{t.id, fmt.Errorf("flush: %w", faultFlush.err())}
		}
		if err := t.t.Flush(); err != nil {
			return &taskFailure{t.id, fmt.Errorf("flush: %w", err)}
		}
	}
	took.caches = time.Since(start)
	// Each producer's acks are awaited at once: a producer lingers until its
	// Flush, and under exactly-once every task has its own.
	flushed := map[*kgo.Client]bool{}
	var owners []*task // the first task of each producer
	for _, t := range tasks {
		if !flushed[t.producer] {
			flushed[t.producer] = true
			owners = append(owners, t)
		}
	}
	for i, err := range concurrently(len(owners), func(i int) error { return owners[i].producer.Flush(ctx) }) {
		if err != nil {
			t := owners[i]
			err = fmt.Errorf("wait for produce acks: %w", err)
			if t.producer != e.producer && ctx.Err() == nil {
				return &taskFailure{t.id, err} // the task's own producer
			}
			return err
		}
	}
	if e.fencedWrites > 0 {
		return errLeaseLost // some of what was flushed was dropped
	}
	e.mu.Lock()
	perr := e.produceErr
	offsets := map[*task]map[rocks.StorePartition]int64{}
	for _, t := range tasks {
		if perr == nil && t.produceErr != nil {
			perr = &taskFailure{t.id, t.produceErr}
		}
		for _, sp := range t.stores {
			if !sp.spec.Persistent {
				continue
			}
			if o, ok := e.changelogs[topicPartition{sp.changelog, sp.partition}]; ok {
				if offsets[t] == nil {
					offsets[t] = map[rocks.StorePartition]int64{}
				}
				offsets[t][rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = o
			}
		}
	}
	e.mu.Unlock()
	if perr != nil {
		return perr // nothing is committed past records whose output was lost
	}
	for t, o := range offsets {
		if err := t.db.SetChangelogOffsets(o); err != nil {
			return fmt.Errorf("record changelog offsets of task %s: %w", t.id, err)
		}
	}
	return nil
}

// commitTimes is how long the phases of one commit took, logged at debug
// level: where the loop waits while it commits.
type commitTimes struct {
	caches time.Duration // Task.Flush: typed caches to RocksDB and the changelogs
	acks   time.Duration // until every produce was acknowledged
	// Under exactly-once: the transactions' commit (concurrent), and the
	// phases of the slowest one.
	txns                     time.Duration
	add, offsets, end, begin time.Duration
	txnTasks                 int
	// waited is how long the loop waited for commits finishing off the loop
	// (txncommit.go), from when they were begun until the last settled
	// (took): the commit's cost to the loop is caches + waited.
	waited time.Duration
}

func (c *commitTimes) log(log *slog.Logger, tasks int, start time.Time) {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	log.Debug("committed", "tasks", tasks, "took", time.Since(start), "caches", c.caches, "acks", c.acks,
		"transactions", c.txnTasks, "txn_commit", c.txns, "slowest_add_offsets", c.add,
		"slowest_txn_offset_commit", c.offsets, "slowest_end_txn", c.end, "slowest_begin", c.begin,
		"loop_waited", c.waited)
}
