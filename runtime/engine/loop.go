package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
)

// The loop, one turn (step) at a time:
//
//	events ─▶ poll ─▶ process ─▶ punctuate ─▶ checkpoint barriers ─▶ commit (every commit interval) ─▶ reconcile
//
// Each stage returns its error and the loop classifies it (errors.go). Only
// commit (commit.go) makes processed input durable, so exactly-once can turn it
// into a transaction's commit without touching the other stages.

// loopState is what the loop carries from one turn to the next.
type loopState struct {
	lastCommit   time.Time
	lastFetchErr time.Time // when a fetch error was last logged
	// fetched is what poll took from consumer and has not handed out yet.
	fetched kgo.Fetches
	held    heldBack // records of the last fetch waiting for a lagging input (order.go)
	from    *kgo.Client
}

// loop follows the coordinator's events, polls, processes and commits until
// ctx ends or processing fails.
func (e *Engine) loop(ctx context.Context) error {
	st := loopState{lastCommit: time.Now()}
	for {
		err := e.step(ctx, &st)
		for err != nil {
			switch classify(ctx, err) {
			case dropTask:
				err = e.rollbackTask(ctx, err) // restarting the task may fail in turn
			case dropTasks:
				e.discardTasks(ctx, err.Error())
				err = nil
			case leave:
				return e.stopGracefully()
			case fail:
				return e.failed(e.watch.Explain(err))
			}
		}
	}
}

// step is one turn of the loop.
func (e *Engine) step(ctx context.Context, st *loopState) error {
	// The brokers refusing the credentials or the TLS settings again and again
	// (a password changed, a certificate expired) ends the run: franz-go would
	// retry for ever.
	if err := e.watch.Fatal(); err != nil {
		return err
	}
	if err := e.handleEvents(ctx); err != nil {
		return err
	}
	e.serveQueries()
	if e.consumer == nil {
		return e.idle(ctx)
	}
	fetches, err := e.poll(ctx, st)
	if err != nil {
		return err
	}
	if err := e.processFetches(ctx, fetches); err != nil {
		return err
	}
	if err := e.punctuate(); err != nil {
		return err
	}
	if err := e.settleFinished(); err != nil {
		return err
	}
	if err := e.ckpt.advance(ctx); err != nil {
		return err
	}
	if time.Since(st.lastCommit) < e.cfg.CommitInterval {
		return nil
	}
	if e.wm.enabled() {
		if err := e.settleCommits(); err != nil { // announcing produces through every task
			return err
		}
		if err := e.wm.announce(); err != nil {
			return err
		}
	}
	release := e.observeMemory() // the commit's flush shrinks the caches to a lowered share
	if err := e.commitInterval(ctx); err != nil {
		return err
	}
	if release {
		e.pressure.free() // return what the caches and the allocators hold free
	}
	st.lastCommit = time.Now()
	// Catch up with the assignment: tasks that could not start while the lease
	// was being acquired start now.
	return e.reconcile(ctx, e.node.Mine())
}

// idle waits for the coordinator while no task runs here, reconciling with the
// assignment every commit interval.
func (e *Engine) idle(ctx context.Context) error {
	if err := e.settleCommits(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case ev := <-e.node.Events():
		return e.handle(ctx, ev)
	case q := <-e.readRequests():
		q.reply <- e.answer(q)
		return nil
	case <-time.After(e.cfg.CommitInterval):
		return e.reconcile(ctx, e.node.Mine())
	}
}

// pollBatch is the most records one turn of the loop processes, so that
// coordinator events and the commit interval are seen between batches.
const pollBatch = 10_000

// poll returns up to pollBatch records of what the running tasks' inputs
// have. When nothing is left of the last fetch it waits briefly, so that
// coordinator events (a task moving, a checkpoint, fencing) are handled within
// a fraction of a second even when no record arrives, and never past the next
// commit.
//
// It takes whole fetches from the consumer and hands them out pollBatch
// records at a time: franz-go sends a broker its next fetch only once the
// last one has been taken in full, so taking it whole lets the next fetch
// (the broker's read, the transfer, the decoding on franz-go's goroutines)
// overlap the processing of this one, where taking pollBatch records at a
// time left the loop waiting for every fetch. What is left of a fetch
// belongs to the consumer it came from; a rebuilt consumer (tasks moved,
// a rollback) starts from the processed positions, and the rest is dropped.
//
// A fetch is put in time order (order.go) before it is cut into batches: a
// batch taken in the fetch's own order could hold all of one join input's
// records and none of the other's, and processing them would move the task's
// stream time past the other input's records, which the join then drops as
// late (Nexmark q8 through a broker lost 12% of its rows at 1,000,000 events).
func (e *Engine) poll(ctx context.Context, st *loopState) (kgo.Fetches, error) {
	if st.from != e.consumer {
		st.fetched, st.held, st.from = nil, heldBack{}, e.consumer
	}
	if len(st.fetched) > 0 {
		return takeRecords(&st.fetched, pollBatch), nil
	}
	wait := max(min(e.cfg.CommitInterval-time.Since(st.lastCommit), 100*time.Millisecond), time.Millisecond)
	pollCtx, cancel := context.WithTimeout(ctx, wait)
	begin := time.Now()
	fetches := e.consumer.PollFetches(pollCtx)
	e.metrics.poll.Observe(time.Since(begin).Seconds())
	cancel()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fetches.IsClientClosed() {
		return nil, errors.New("poll: the consumer was closed")
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) {
			return // the poll's own time limit: nothing arrived
		}
		if time.Since(st.lastFetchErr) > 5*time.Second { // a broker outage would flood the log
			e.log.Warn("fetch failed; retrying", "topic", topic, "partition", p, "err", err)
			st.lastFetchErr = time.Now()
		}
	})
	st.fetched = timeOrdered(fetches, e.orderedTopics, &st.held, time.Now())
	return takeRecords(&st.fetched, pollBatch), nil
}

// takeRecords takes the first n records of *f (partitions in order; a
// partition may be split, its records staying in order), and leaves the rest
// in *f. Partitions without records (errors, control-only batches already
// filtered by franz-go) go with the records before them.
func takeRecords(f *kgo.Fetches, n int) kgo.Fetches {
	var out kgo.Fetches
	for len(*f) > 0 {
		fetch := &(*f)[0]
		for len(fetch.Topics) > 0 {
			t := &fetch.Topics[0]
			for len(t.Partitions) > 0 {
				if n == 0 {
					return out
				}
				p := &t.Partitions[0]
				piece := *p
				take := min(n, len(p.Records))
				piece.Records = p.Records[:take:take]
				p.Records = p.Records[take:]
				n -= take
				out = appendPartition(out, t, piece)
				if len(p.Records) > 0 {
					return out
				}
				t.Partitions = t.Partitions[1:]
			}
			fetch.Topics = fetch.Topics[1:]
		}
		*f = (*f)[1:]
	}
	*f = nil
	return out
}

// appendPartition adds p of topic t to out (one fetch), under its last topic
// when that is t.
func appendPartition(out kgo.Fetches, t *kgo.FetchTopic, p kgo.FetchPartition) kgo.Fetches {
	if len(out) == 0 {
		out = kgo.Fetches{{}}
	}
	ts := &out[0].Topics
	if n := len(*ts); n == 0 || (*ts)[n-1].Topic != t.Topic {
		*ts = append(*ts, kgo.FetchTopic{Topic: t.Topic, TopicID: t.TopicID})
	}
	last := &(*ts)[len(*ts)-1]
	last.Partitions = append(last.Partitions, p)
	return out
}

// catchUp follows tasks that moved while their records were being fetched: the
// lease lapsed (every task goes), or some tasks were taken away (they stop, and
// the consumer re-reads from the positions of what was processed, since it went
// past what was left unprocessed).
func (e *Engine) catchUp(ctx context.Context) error {
	if valid, epoch := e.node.Lease(); !valid {
		return fmt.Errorf("lease lapsed (epoch %d): %w", epoch, errLeaseLost)
	}
	if err := e.reconcile(ctx, e.node.Mine()); err != nil {
		return err
	}
	return e.rebuildConsumer()
}

// stopGracefully ends the loop when ctx ends: what was processed is flushed and
// committed, the tasks closed cleanly (under exactly-once their local state is
// marked for the next start here: marker.go; a task whose transaction fails
// now is dropped and the others still commit), then the replica leaves the
// group so its tasks move at once.
func (e *Engine) stopGracefully() error {
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := e.commit(stop)
	for classify(stop, err) == dropTask {
		if _, ok := e.dropFailedTasks(stop, err); !ok {
			break
		}
		err = e.commit(stop) // the others still commit and close cleanly
	}
	switch classify(stop, err) {
	case carryOn:
		e.closeCleanly(slices.Collect(maps.Values(e.tasks)))
	case dropTasks, dropTask:
		e.discardTasks(stop, err.Error())
	default:
		return fmt.Errorf("final commit: %w", err)
	}
	e.reportRunning()
	e.stopAllStandbys()
	if err := e.node.Leave(stop); err != nil {
		e.log.Warn("leave the coordinator group", "err", err)
	}
	e.log.Info("stopped", "processed", e.processed, "skipped", e.bad.skipped, "dead_lettered", e.bad.deadLettered)
	return nil
}

// failed ends the loop on err. After a record's failure, what was processed
// before it is committed (under exactly-once, the transaction is aborted instead), so that a restart resumes at the failing record; the
// commit is bounded, so that unreachable brokers cannot keep a failed
// application alive.
func (e *Engine) failed(err error) error {
	if serr := e.settleCommits(); serr != nil {
		e.log.Error("commit in flight when processing failed", "err", serr)
	}
	var rf *recordFailure
	if errors.As(err, &rf) && e.cfg.ExactlyOnce {
		// Nothing of the failing record's transaction may become visible:
		// abort it; a restart resumes at the last commit.
		for _, t := range e.tasks {
			e.abortTxn(context.Background(), t)
		}
	} else if errors.As(err, &rf) {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := e.commit(stop); err != nil {
			e.log.Error("commit after failure", "err", err)
		}
		cancel()
	}
	return err
}

// handleEvents handles every coordinator event already waiting. An event
// may act on every task (move, checkpoint, fence), so the commits in flight
// finish first; when one failed, the event is held until the loop has rolled
// the failed tasks back.
func (e *Engine) handleEvents(ctx context.Context) error {
	for {
		ev := e.heldEvent
		e.heldEvent = nil
		if ev == nil {
			select {
			case ev = <-e.node.Events():
			default:
				return nil
			}
		}
		if err := e.settleCommits(); err != nil {
			e.heldEvent = ev
			return err
		}
		if err := e.handle(ctx, ev); err != nil {
			return err
		}
	}
}

func (e *Engine) handle(ctx context.Context, ev coordinator.Event) error {
	switch ev := ev.(type) {
	case coordinator.AssignmentChanged:
		e.log.Info("assignment", "epoch", ev.Epoch, "tasks", len(ev.Mine))
		return e.reconcile(ctx, ev.Mine)
	case coordinator.CheckpointStarted:
		e.ckpt.start(ev.ID)
	case coordinator.CheckpointFinished:
		e.ckpt.finished(ctx, ev.ID, ev.Complete)
	case coordinator.Fenced:
		e.discardTasks(ctx, ev.Reason)
	}
	return nil
}

// reportRunning tells the coordinator which tasks run here (its heartbeats carry
// them to the leader, which moves a task only once its old owner stopped it).
func (e *Engine) reportRunning() {
	ids := make([]coordinator.TaskID, 0, len(e.tasks))
	for id := range e.tasks {
		ids = append(ids, id)
	}
	lags := e.metrics.lagByTask(e)
	e.node.SetRunning(ids, lags)
	e.publishView(lags)
}
