package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state/snapshot"
)

// Barrier checkpoints (the seed's section 4, Flink's asynchronous barrier
// snapshots):
//
//	coordinator: CheckpointStarted(n) through the Raft log
//	  ─▶ every task that reads only user topics is aligned at once: its barrier sits at its current offsets
//	  ─▶ an aligned task writes barrier n as a control record into every partition of each repartition
//	     topic it writes, flushes its cache, waits for the changelog acks (under exactly-once: commits its
//	     transaction, off the loop, and the rest follows when that commit is settled, before the task gets
//	     its next record), takes a RocksDB checkpoint of its own instance (hard links) and hands it to the
//	     uploader (in the background)
//	  ─▶ a task reading a repartition topic is aligned when it has read barrier n from every task writing
//	     that topic (control records are counted here and never reach user code)
//	  ─▶ the uploader sends only SST files not uploaded before, then the manifest; the task acks n
//	  ─▶ or, if its RocksDB checkpoint or upload failed (no manifest is written then, so nothing of it
//	     is ever restored), it reports the failure at once (AbortCheckpoint, the acks' path)
//	coordinator: every task acked ─▶ checkpoint n complete; older ones beyond the kept K expire and the
//	  leader's replica deletes the files only they reference.
//	coordinator: a part failed ─▶ checkpoint n aborted at once (not after its timeout), every replica
//	  drops it and ignores its barriers still in flight; the next one starts on the interval.
//
// Alignment is at-least-once (Flink's "at least once" mode): records that
// arrive after a barrier on one input while another input is still behind are
// processed, not held back, so a snapshot may include a little more than the
// cut. That is exact for what a snapshot is used for here, restoring state with
// the changelog offsets it records. Exactly-once needs no held-back inputs
// either: a task's transaction commits before its snapshot is taken, so the
// snapshot is committed state, and the committed changelog tail brings it to
// the committed input offsets (eos.go).

const (
	barrierHeader = "gofka.barrier" // value: checkpoint id; first header of a control record
	senderHeader  = "gofka.from"    // value: the task that sent it, e.g. 0_3
)

type checkpoints struct {
	e *Engine

	id      uint64                      // the checkpoint in progress, 0 when none
	done    uint64                      // the newest checkpoint seen finished: its barriers and older ones are ignored
	pending map[coordinator.TaskID]bool // running tasks not yet snapshotted for id
	// seen[id][task][topic] is the set of upstream tasks whose barrier id the
	// task has read on that repartition topic.
	seen map[uint64]map[coordinator.TaskID]map[string]map[string]bool
	// writers[topic] is how many tasks write a repartition topic: the barriers
	// a reader waits for.
	writers map[string]int

	uploads sync.WaitGroup
	mu      sync.Mutex // guards last
	last    []checkpointRecord
}

// checkpointRecord is what this replica did for one task in one checkpoint,
// for the status endpoint.
type checkpointRecord struct {
	ID        uint64        `json:"id"`
	Task      string        `json:"task"`
	Files     int           `json:"files,omitempty"`
	NewFiles  int           `json:"new_files,omitempty"`
	Bytes     int64         `json:"bytes,omitempty"`
	NewBytes  int64         `json:"new_bytes,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
	Error     string        `json:"error,omitempty"`
	Completed time.Time     `json:"completed"`
}

func newCheckpoints(e *Engine) *checkpoints {
	return &checkpoints{e: e, pending: map[coordinator.TaskID]bool{}, seen: map[uint64]map[coordinator.TaskID]map[string]map[string]bool{}}
}

// start begins checkpoint id on this replica: every running task owes it a snapshot.
func (c *checkpoints) start(id uint64) {
	if c.writers == nil {
		c.writers = map[string]int{}
		for _, st := range c.e.prog.SubTopologies {
			for _, tid := range st.Sinks {
				if t := c.e.topics[tid]; t.kind == runtime.RepartitionTopic {
					c.writers[t.name] += int(c.e.parts[st.ID])
				}
			}
		}
	}
	c.id = id
	clear(c.pending)
	for k := range c.e.tasks {
		c.pending[k] = true
	}
	for old := range c.seen {
		if old < id {
			delete(c.seen, old)
		}
	}
	c.e.log.Debug("checkpoint started", "checkpoint", id, "tasks", len(c.pending))
}

// finished ends checkpoint id; a complete one triggers the removal of files
// only expired checkpoints reference. Every replica collects: the snapshot store
// may be a directory of its own (the default), and on a shared one (S3) the
// collections agree, since they follow the same checkpoint log and spare
// anything younger than the grace period.
func (c *checkpoints) finished(ctx context.Context, id uint64, complete bool) {
	if c.id == id {
		c.id = 0
		clear(c.pending)
	}
	c.done = max(c.done, id)
	delete(c.seen, id)
	c.e.metrics.checkpoints.WithLabelValues(strconv.FormatBool(complete)).Inc()
	if complete {
		c.uploads.Add(1)
		go func() {
			defer c.uploads.Done()
			c.e.collectGarbage(ctx)
		}()
	}
}

// forget drops a task that stopped running here.
func (c *checkpoints) forget(k coordinator.TaskID) { delete(c.pending, k) }

// wait waits for the uploads and collections in flight.
func (c *checkpoints) wait() { c.uploads.Wait() }

// barrier counts a control record read on a repartition topic partition.
func (c *checkpoints) barrier(topic string, p int32, r *kgo.Record) {
	id, err := strconv.ParseUint(string(r.Headers[0].Value), 10, 64)
	if err != nil {
		c.e.log.Warn("malformed barrier record ignored", "topic", topic, "partition", p, "offset", r.Offset)
		return
	}
	from := ""
	for _, h := range r.Headers[1:] {
		if h.Key == senderHeader {
			from = string(h.Value)
		}
	}
	if id <= c.done || (c.id != 0 && id < c.id) {
		// A finished (aborted) checkpoint's barrier still in flight, or an
		// older one replayed after a restart.
		return
	}
	for _, rt := range c.e.routes[topic] {
		k := coordinator.TaskID{SubTopology: rt.subTopology, Partition: p}
		byTask := c.seen[id]
		if byTask == nil {
			byTask = map[coordinator.TaskID]map[string]map[string]bool{}
			c.seen[id] = byTask
		}
		if byTask[k] == nil {
			byTask[k] = map[string]map[string]bool{}
		}
		if byTask[k][topic] == nil {
			byTask[k][topic] = map[string]bool{}
		}
		byTask[k][topic][from] = true
	}
}

// aligned reports whether task k has read barrier id on every repartition
// input; inputs from user topics are aligned at their current offsets.
func (c *checkpoints) aligned(t *task) bool {
	for _, tp := range t.inputs {
		want, internal := c.writers[tp.topic]
		if !internal {
			continue
		}
		if len(c.seen[c.id][t.id][tp.topic]) < want {
			return false
		}
	}
	return true
}

// advance snapshots the tasks that became aligned since the last call.
func (c *checkpoints) advance(ctx context.Context) error {
	if c.id == 0 || len(c.pending) == 0 {
		return nil
	}
	var ready []*task
	for k := range c.pending {
		if t := c.e.tasks[k]; t != nil && c.aligned(t) {
			ready = append(ready, t)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	id := c.id
	e := c.e
	// The barriers go out through the ready tasks' producers, which cannot
	// produce while their last commit is finishing; other tasks' commits may
	// go on.
	for _, t := range ready {
		if err := e.settleTask(t); err != nil {
			return err
		}
	}
	// Barriers go downstream first, behind every record these tasks emitted.
	for _, t := range ready {
		for _, tid := range e.prog.SubTopologies[t.id.SubTopology].Sinks {
			out := e.topics[tid]
			if out.kind != runtime.RepartitionTopic {
				continue
			}
			for p := int32(0); p < out.partitions; p++ {
				e.produce(t, out.name, p, nil, nil, runtime.NoTimestamp, []kgo.RecordHeader{
					{Key: barrierHeader, Value: []byte(strconv.FormatUint(id, 10))},
					{Key: senderHeader, Value: []byte(t.id.String())},
				})
			}
		}
	}
	begin := time.Now()
	for _, t := range ready {
		delete(c.pending, t.id)
	}
	if !e.cfg.ExactlyOnce {
		if err := e.flushTasks(ctx, ready); err != nil {
			for _, t := range ready {
				c.pending[t.id] = true
			}
			return fmt.Errorf("checkpoint %d: %w", id, err)
		}
		for _, t := range ready {
			c.snapshot(ctx, id, t, c.sourceOffsets(t), begin)
		}
		return nil
	}
	// Under exactly-once the snapshot holds committed state only: each task's
	// transaction commits before its RocksDB checkpoint (eos.go). The commits
	// finish off the loop; a task's checkpoint is taken when its commit is
	// settled, before it is given anything else (settleTask), so nothing of
	// the next transaction is in it. A failed commit puts the task back among
	// those owing the checkpoint, as one whose flush failed here: the rollback
	// then has it aligned again or aborts the checkpoint (dropFailedTask).
	handled := map[*task]bool{}
	err := e.beginAlignedCommits(ctx, ready, func(t *task) func(error) {
		source := c.sourceOffsets(t) // the positions at the barrier
		return func(err error) {
			handled[t] = true
			switch {
			case c.id != id:
				// The checkpoint finished (aborted) while the commit was in
				// flight: nothing to snapshot for it.
			case err != nil:
				c.pending[t.id] = true
			default:
				c.snapshot(ctx, id, t, source, begin)
			}
		}
	})
	if err != nil {
		for _, t := range ready {
			if t.committing == nil && !handled[t] {
				c.pending[t.id] = true // its commit did not begin
			}
		}
		return fmt.Errorf("checkpoint %d: %w", id, err)
	}
	return nil
}

// sourceOffsets are t's positions on user topics, recorded with its snapshot.
func (c *checkpoints) sourceOffsets(t *task) map[string]int64 {
	source := map[string]int64{}
	for _, tp := range t.inputs {
		if _, internal := c.writers[tp.topic]; !internal {
			source[tp.String()] = c.e.positions[tp]
		}
	}
	return source
}

// snapshot takes t's RocksDB checkpoint for checkpoint id, its state
// flushed (and under exactly-once committed), and uploads it in the
// background; the upload acks the task's part, or aborts it. A task without
// a persistent store only relays the barrier and acks at once.
func (c *checkpoints) snapshot(ctx context.Context, id uint64, t *task, source map[string]int64, begin time.Time) {
	e := c.e
	if t.db == nil {
		c.ack(ctx, id, t.id, coordinator.CheckpointAck{SourceOffsets: source}, checkpointRecord{ID: id, Task: t.id.String()})
		return
	}
	dir := filepath.Join(e.pool.StagingDir(), fmt.Sprintf("checkpoint-%d-%s", id, t.id))
	os.RemoveAll(dir)
	info, err := t.db.Checkpoint(dir)
	if err != nil {
		c.abort(ctx, checkpointRecord{ID: id, Task: t.id.String(), Duration: time.Since(begin)}, t.id, "local", fmt.Errorf("RocksDB checkpoint: %w", err))
		return
	}
	changelog := map[string]int64{}
	for sp, o := range info.Offsets {
		changelog[topicPartition{e.topics[e.storeSpec(sp.Store).Changelog].name, sp.Partition}.String()] = o
	}
	k := t.id
	local := time.Since(begin)
	c.uploads.Add(1)
	go func() {
		defer c.uploads.Done()
		defer os.RemoveAll(dir)
		_, ref, stats, err := e.uploader.Upload(ctx, k.String(), id, dir, changelog, source)
		rec := checkpointRecord{ID: id, Task: k.String(), Files: stats.Files, NewFiles: stats.NewFiles,
			Bytes: stats.Bytes, NewBytes: stats.NewBytes, Duration: local + stats.Duration}
		if err != nil {
			c.abort(ctx, rec, k, "upload", fmt.Errorf("snapshot upload: %w", err))
			return
		}
		e.metrics.checkpointSeconds.Observe(rec.Duration.Seconds())
		e.metrics.checkpointBytes.Add(float64(stats.NewBytes))
		c.ack(ctx, id, k, coordinator.CheckpointAck{ManifestRef: ref, Files: stats.Files, Bytes: stats.Bytes,
			ChangelogOffsets: changelog, SourceOffsets: source, DurationMillis: rec.Duration.Milliseconds()}, rec)
	}()
}

func (c *checkpoints) ack(ctx context.Context, id uint64, k coordinator.TaskID, ack coordinator.CheckpointAck, rec checkpointRecord) {
	if err := c.e.node.AckCheckpoint(ctx, id, k, ack); err != nil {
		rec.Error = err.Error()
		c.e.log.Warn("checkpoint ack failed", "checkpoint", id, "task", k, "err", err)
	}
	c.record(rec)
}

// abort reports that task k's part of checkpoint rec.ID failed (in phase
// local or upload): the coordinator aborts the checkpoint at once rather
// than waiting out its timeout. Refused (the checkpoint already finished,
// or the task moved), it is only logged: either way the checkpoint is not
// completed with this part.
func (c *checkpoints) abort(ctx context.Context, rec checkpointRecord, k coordinator.TaskID, phase string, cause error) {
	rec.Error = cause.Error()
	c.e.metrics.checkpointPartsFailed.WithLabelValues(phase).Inc()
	c.e.log.Warn("checkpoint part failed; asking the coordinator to abort the checkpoint", "checkpoint", rec.ID, "task", k, "err", cause)
	if err := c.e.node.AbortCheckpoint(ctx, rec.ID, k, cause.Error()); err != nil {
		c.e.log.Warn("checkpoint abort not taken", "checkpoint", rec.ID, "task", k, "err", err)
	} else {
		c.e.log.Info("checkpoint aborted", "checkpoint", rec.ID, "task", k)
	}
	c.record(rec)
}

func (c *checkpoints) record(rec checkpointRecord) {
	rec.Completed = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = append(c.last, rec)
	if len(c.last) > 50 {
		c.last = c.last[len(c.last)-50:]
	}
}

func (c *checkpoints) history() []checkpointRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]checkpointRecord(nil), c.last...)
}

func (e *Engine) storeSpec(name string) runtime.StoreSpec {
	for _, s := range e.prog.Stores {
		if s.Name == name {
			return s
		}
	}
	return runtime.StoreSpec{}
}

// collectGarbage deletes snapshot files that only expired checkpoints reference.
func (e *Engine) collectGarbage(ctx context.Context) {
	keep := map[string][]uint64{}
	for _, cp := range e.node.Checkpoints() {
		if !cp.Retained() {
			continue
		}
		for task := range cp.Acks {
			keep[task] = append(keep[task], cp.ID)
		}
	}
	n, err := snapshot.GC(ctx, e.snaps, e.cfg.AppID, keep, snapshot.GCOptions{Log: e.log})
	if err != nil {
		e.log.Warn("snapshot garbage collection", "err", err)
		return
	}
	if n > 0 {
		e.log.Info("snapshot files deleted", "files", n)
	}
}
