package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// A task's life on a replica: the coordinator assigns it (reconcile), startTask
// restores its state and makes the generated task, the loop feeds it, and
// stopTasks (reassigned elsewhere: flush and commit, then a clean close),
// discardTasks (fenced: nothing more may be written) or, under exactly-once,
// a rollback of that task alone (rollback.go: its transaction aborted) ends it.

// reconcile makes the running tasks those in mine: it stops the tasks that are
// no longer this replica's first (their new owner starts them only after the
// coordinator sees them stopped), then restores and starts the new ones, and
// rebuilds the consumer over the inputs of the running tasks.
func (e *Engine) reconcile(ctx context.Context, mine []coordinator.TaskID) error {
	want := map[coordinator.TaskID]bool{}
	for _, id := range mine {
		want[id] = true
	}
	var stop []*task
	for k, t := range e.tasks {
		if !want[k] {
			stop = append(stop, t)
		}
	}
	if len(stop) > 0 {
		if err := e.stopTasks(ctx, stop); err != nil {
			return err
		}
	}
	var start []coordinator.TaskID
	for k := range want {
		// A task starts only under a valid lease: the coordinator may still be
		// replaying an old assignment, or this replica may not have heard from
		// the leader yet. A later event (or the periodic reconcile) starts it.
		if e.tasks[k] == nil && e.node.MayRun(k) {
			start = append(start, k)
		}
	}
	slices.SortFunc(start, compareTasks)
	if len(start) > 0 {
		e.promoteStandbys(start) // their state is left for startTask
		// Under exactly-once each new task's producer is initialized first:
		// that fences the task's previous owner and aborts its open
		// transaction, so the committed offsets and changelogs read next are final.
		producers, err := e.startProducers(ctx, start)
		if err != nil {
			return err
		}
		committed, err := e.committedOffsets(ctx)
		if err != nil {
			closeAll(producers)
			return err
		}
		bounds, err := e.changelogBounds(ctx, start) // every starting task's in one listing
		if err != nil {
			closeAll(producers)
			return err
		}
		for _, k := range start {
			err := e.startTask(ctx, k, committed, bounds, producers[k])
			if err != nil {
				closeAll(producers)
				return fmt.Errorf("start task %s: %w", k, err)
			}
			delete(producers, k)
		}
	}
	e.reportRunning()
	e.closeWarmExcept(want) // a promoted standby whose task did not start, and will not
	e.syncStandbys(e.node.Standbys(), mine)
	if len(stop) > 0 || len(start) > 0 {
		return e.rebuildConsumer()
	}
	return nil
}

// compareTasks orders tasks by sub-topology, then partition.
func compareTasks(a, b coordinator.TaskID) int {
	if c := cmp.Compare(a.SubTopology, b.SubTopology); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// committedOffsets fetches the input offsets committed for the application.
// Retriable errors are retried: a fresh Kafka cluster answers
// COORDINATOR_NOT_AVAILABLE until it has created __consumer_offsets, and the
// group coordinator can move at any time, or be on a broker that is restarting.
func (e *Engine) committedOffsets(ctx context.Context) (kadm.OffsetResponses, error) {
	for attempt := 1; ; attempt++ {
		committed, err := e.adm.FetchOffsets(ctx, e.cfg.AppID)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil, nil // a new application: nothing committed yet
		}
		if err == nil {
			return committed, nil
		}
		if !(kerr.IsRetriable(err) || unreachable(err)) || attempt == 60 || ctx.Err() != nil {
			return nil, fmt.Errorf("fetch committed offsets: %w", err)
		}
		e.log.Debug("fetch committed offsets: retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Duration(attempt)*100*time.Millisecond, time.Second)):
		}
	}
}

// startTask restores a task's state and makes its generated task; its inputs
// resume from the committed offsets.
func (e *Engine) startTask(ctx context.Context, k coordinator.TaskID, committed kadm.OffsetResponses, bounds map[topicPartition]bounds, producer *kgo.Client) error {
	begin := time.Now()
	st := e.prog.SubTopologies[k.SubTopology]
	t := &task{id: k, producer: e.producer, out: e.out}
	if producer != nil {
		t.producer, t.out = producer, &outPool{}
	}
	t.ack = e.ackFunc(t)
	persistent := false
	for _, si := range st.Stores {
		persistent = persistent || e.prog.Stores[si].Persistent
	}
	from := map[topicPartition]int64{} // where each store partition's replay starts
	var err error
	if t.restoredFrom, err = e.taskState(ctx, t, persistent, bounds, committed, from); err != nil {
		return err
	}
	backends := make([]state.Backend, len(st.Stores))
	for i, si := range st.Stores {
		spec := e.prog.Stores[si]
		sp := &storePartition{spec: spec, partition: k.Partition, changelog: e.topics[spec.Changelog].name}
		tp := topicPartition{sp.changelog, k.Partition}
		if spec.Persistent {
			s, err := t.db.Store(spec.Name, k.Partition)
			if err != nil {
				return err
			}
			sp.raw = s
		} else {
			sp.raw = state.NewMemoryBackend()
		}
		if _, ok := from[tp]; !ok {
			from[tp] = bounds[tp].start
		}
		t.stores = append(t.stores, sp)
		changelog, partition := sp.changelog, k.Partition
		backends[i] = &state.Logged{Backend: sp.raw, Log: func(key, value []byte) {
			e.produce(t, changelog, partition, key, value, runtime.NoTimestamp, nil)
		}}
	}
	records, err := e.replayChangelogs(ctx, t, from, bounds)
	if err != nil {
		return err
	}
	for _, src := range st.Sources {
		for _, id := range src.Topics {
			tp := topicPartition{e.topics[id].name, k.Partition}
			t.inputs = append(t.inputs, tp)
			if _, ok := e.positions[tp]; ok {
				continue
			}
			if o, ok := committed.Lookup(tp.topic, tp.partition); ok && o.Err == nil && o.At >= 0 {
				e.positions[tp] = o.At
			} else {
				e.positions[tp] = -1 // from the start
			}
		}
	}
	tt := committedTaskTime(committed, t.inputs)
	t.t = st.NewTask(runtime.TaskContext{Partition: k.Partition, Out: taskOut{e, t}, Stores: backends, CacheEntries: e.cacheEntries,
		StreamTime: tt.stream, Watermark: tt.watermark, Late: &t.late, NullKeys: &t.nullKeys,
		Globals: e.globalViews()})
	e.wm.start(t, tt.watermark)
	e.uploader.Forget(k.String()) // the next upload compares with the store, not with what this replica uploaded before
	if e.promoted[k] && strings.HasPrefix(t.restoredFrom, "local state") {
		t.restoredFrom += " (kept by a standby)"
	}
	delete(e.promoted, k)
	t.restoreTime = time.Since(begin)
	t.startedAt = time.Now()
	t.restoredRecords = records
	t.processedBy = e.metrics.process.WithLabelValues(k.String())
	e.tasks[k] = t
	e.counts(k).starts++
	e.metrics.restoreSeconds.WithLabelValues(k.String()).Set(t.restoreTime.Seconds())
	e.log.Info("task started", "task", k, "state_from", t.restoredFrom, "changelog_records_replayed", records,
		"restore_duration", t.restoreTime.Round(time.Millisecond))
	return nil
}

// taskState opens a starting task's persistent state: a promoted standby's
// open instance (standby.go), else openTaskState's sources. It says where
// the state came from.
func (e *Engine) taskState(ctx context.Context, t *task, persistent bool, bounds map[topicPartition]bounds, committed kadm.OffsetResponses,
	from map[topicPartition]int64) (string, error) {
	if !persistent {
		return "changelog (in-memory stores)", nil
	}
	if ok, err := e.takeWarm(t, bounds, from); ok || err != nil {
		return "local state", err
	}
	return e.openTaskState(ctx, t, bounds, committed, from)
}

// stopTasks ends tasks that moved elsewhere cleanly: their state is flushed and
// acknowledged and their input offsets committed before they close, so the new
// owner starts exactly where they stopped.
func (e *Engine) stopTasks(ctx context.Context, stop []*task) error {
	if err := e.commitTasks(ctx, stop); err != nil {
		return err
	}
	e.closeCleanly(stop)
	for _, t := range stop {
		e.log.Info("task stopped", "task", t.id)
	}
	return nil
}

// discardTasks drops every running task without writing anything more: this
// replica was fenced (its lease expired or the coordinator declared it dead),
// so another replica may already own the tasks. Records still buffered in the
// producer are aborted; local state, which may be ahead of what was logged, is
// deleted so that it is never trusted again.
func (e *Engine) discardTasks(ctx context.Context, reason string) {
	if len(e.tasks) == 0 {
		e.fencedWrites = 0
		return
	}
	if err := e.settleCommits(); err != nil {
		e.log.Warn("commit in flight when the tasks were dropped", "err", err)
	}
	// Abort even when ctx ended (a lapse found while stopping): records left
	// buffered would otherwise still be written for tasks another replica owns.
	abort, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	if err := e.producer.AbortBufferedRecords(abort); err != nil {
		e.log.Warn("abort buffered records", "err", err)
	}
	cancel()
	dropped := len(e.tasks) // counted before closeTask empties the map
	for _, t := range e.tasks {
		e.abortTxn(ctx, t)
		persistent := t.db != nil // closeTask forgets the instance
		e.closeTask(t)
		if persistent {
			if err := e.pool.Remove(t.id.String()); err != nil {
				e.log.Warn("remove fenced task state", "task", t.id, "err", err)
			}
		}
	}
	e.mu.Lock()
	e.produceErr = nil // the aborted records' errors
	e.mu.Unlock()
	e.log.Warn("fenced: dropped every task without committing", "reason", reason, "tasks", dropped, "writes_dropped", e.fencedWrites)
	e.fencedWrites = 0
	clear(e.tasks)
	clear(e.positions)
	e.wm.clear()
	e.metrics.forgetTasks()
	e.closeConsumer()
	e.reportRunning()
}

// closeTask forgets a task: its inputs' positions (unless another running task
// reads them too) and its RocksDB instance.
func (e *Engine) closeTask(t *task) {
	if err := e.settleTask(t); err != nil { // its producer closes below
		e.log.Warn("commit in flight when the task closed", "task", t.id, "err", err)
	}
	delete(e.tasks, t.id)
	e.wm.stop(t)
	e.metrics.forgetTask(t.id) // a task that left has no series here
	for _, tp := range t.inputs {
		shared := false
		for _, o := range e.tasks {
			shared = shared || slices.Contains(o.inputs, tp)
		}
		if !shared {
			delete(e.positions, tp)
		}
	}
	if t.db != nil {
		if err := t.db.Close(); err != nil {
			e.log.Warn("close task state", "task", t.id, "err", err)
		}
		t.db = nil
	}
	e.ckpt.forget(t.id)
	if t.producer != nil && t.producer != e.producer {
		t.producer.Close() // its transaction was committed (or aborted) already
		t.producer = nil
	}
}

// rebuildConsumer replaces the consumer with one reading exactly the inputs of
// the running tasks from their positions. Assignment changes are rare, so a new
// client is simpler and safer than editing a live one's partitions.
func (e *Engine) rebuildConsumer() error {
	e.closeConsumer()
	assign := map[string]map[int32]kgo.Offset{}
	for tp, at := range e.positions {
		if assign[tp.topic] == nil {
			assign[tp.topic] = map[int32]kgo.Offset{}
		}
		if at >= 0 {
			assign[tp.topic][tp.partition] = kgo.NewOffset().At(at)
		} else {
			assign[tp.topic][tp.partition] = kgo.NewOffset().AtStart()
		}
	}
	if len(assign) == 0 {
		return nil
	}
	var err error
	// Transaction markers are kept (and skipped by processPartition) so that
	// positions move past them, the committed offsets reach the end of an
	// input, and a marker is not taken for a record still to fetch (order.go).
	opts := []kgo.Opt{kgo.ConsumePartitions(assign), kgo.FetchMaxWait(200 * time.Millisecond), kgo.KeepControlRecords()}
	if e.cfg.ExactlyOnce {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted())) // committed records only
	}
	e.consumer, err = kgo.NewClient(e.clientOpts(opts...)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	e.log.Info("consuming", "partitions", len(e.positions), "tasks", len(e.tasks))
	return nil
}

func (e *Engine) closeConsumer() {
	if e.consumer != nil {
		e.consumer.Close()
		e.consumer = nil
	}
}
