package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
	"github.com/gofka/streams/state/snapshot"
)

// A task's life on a replica: the coordinator assigns it (reconcile), startTask
// restores its state and makes the generated task, the loop feeds it, and
// stopTask (reassigned elsewhere: flush and commit) or discardTask (fenced:
// nothing more may be written) ends it.

// reconcile makes the running tasks those in mine: it stops the tasks that are
// no longer this replica's first (their new owner starts them only after the
// coordinator sees them stopped), then restores and starts the new ones, and
// rebuilds the consumer over the inputs of the running tasks.
func (e *Engine) reconcile(ctx context.Context, mine []coordinator.TaskID) error {
	want := map[taskKey]bool{}
	for _, id := range mine {
		want[taskKey{id.SubTopology, id.Partition}] = true
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
	var start []taskKey
	for k := range want {
		// A task starts only under a valid lease: the coordinator may still be
		// replaying an old assignment, or this replica may not have heard from
		// the leader yet. A later event (or the periodic reconcile) starts it.
		if e.tasks[k] == nil && e.node.MayRun(k.id()) {
			start = append(start, k)
		}
	}
	slices.SortFunc(start, func(a, b taskKey) int { return compareKeys(a, b) })
	if len(start) > 0 {
		committed, err := e.committedOffsets(ctx)
		if err != nil {
			return err
		}
		for _, k := range start {
			if err := e.startTask(ctx, k, committed); err != nil {
				return fmt.Errorf("start task %s: %w", k, err)
			}
		}
	}
	e.reportRunning()
	if len(stop) > 0 || len(start) > 0 {
		return e.rebuildConsumer()
	}
	return nil
}

func compareKeys(a, b taskKey) int {
	if a.subTopology != b.subTopology {
		return a.subTopology - b.subTopology
	}
	return int(a.partition - b.partition)
}

// committedOffsets fetches the input offsets committed for the application.
// Retriable errors are retried: a fresh Kafka cluster answers
// COORDINATOR_NOT_AVAILABLE until it has created __consumer_offsets, and the
// group coordinator can move at any time.
func (e *Engine) committedOffsets(ctx context.Context) (kadm.OffsetResponses, error) {
	for attempt := 1; ; attempt++ {
		committed, err := e.adm.FetchOffsets(ctx, e.cfg.AppID)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil, nil // a new application: nothing committed yet
		}
		if err == nil {
			return committed, nil
		}
		if !kerr.IsRetriable(err) || attempt == 60 || ctx.Err() != nil {
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
func (e *Engine) startTask(ctx context.Context, k taskKey, committed kadm.OffsetResponses) error {
	begin := time.Now()
	st := e.prog.SubTopologies[k.subTopology]
	t := &task{key: k, id: k.id()}
	persistent := false
	for _, si := range st.Stores {
		persistent = persistent || e.prog.Stores[si].Persistent
	}
	bounds, err := e.changelogBoundsOf(ctx, st, k.partition)
	if err != nil {
		return err
	}
	from := map[topicPartition]int64{} // where each store partition's replay starts
	if persistent {
		t.restoredFrom, err = e.openTaskState(ctx, t, bounds, from)
		if err != nil {
			return err
		}
	} else {
		t.restoredFrom = "changelog (in-memory stores)"
	}
	backends := make([]state.Backend, len(st.Stores))
	for i, si := range st.Stores {
		spec := e.prog.Stores[si]
		sp := &storePartition{spec: spec, partition: k.partition, changelog: e.topics[spec.Changelog].name}
		tp := topicPartition{sp.changelog, k.partition}
		if spec.Persistent {
			s, err := t.db.Store(spec.Name, k.partition)
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
		changelog, partition := sp.changelog, k.partition
		backends[i] = &state.Logged{Backend: sp.raw, Log: func(key, value []byte) {
			e.produce(changelog, partition, key, value, nil)
		}}
	}
	records, err := e.replayChangelogs(ctx, t, from, bounds)
	if err != nil {
		return err
	}
	t.t = st.NewTask(runtime.TaskContext{Partition: k.partition, Out: e, Stores: backends, CacheEntries: e.cacheEntries})
	for _, src := range st.Sources {
		for _, id := range src.Topics {
			tp := topicPartition{e.topics[id].name, k.partition}
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
	e.uploader.Forget(k.String()) // the next upload compares with the store, not with what this replica uploaded before
	t.restoreTime = time.Since(begin)
	t.restoredRecords = records
	e.tasks[k] = t
	e.metrics.restoreSeconds.WithLabelValues(k.String()).Set(t.restoreTime.Seconds())
	e.log.Info("task started", "task", k, "state_from", t.restoredFrom, "changelog_records_replayed", records,
		"restore_duration", t.restoreTime.Round(time.Millisecond))
	return nil
}

// openTaskState opens the task's RocksDB instance from, in order of preference:
// the local instance when its recorded changelog offsets lie within the
// changelogs; the newest complete snapshot that downloads and verifies; an
// older one; or nothing (full changelog replay). It fills from with the offsets
// the state covers and says where the state came from.
func (e *Engine) openTaskState(ctx context.Context, t *task, bounds map[topicPartition]bounds, from map[topicPartition]int64) (string, error) {
	name := t.key.String()
	usable := func(db *rocks.DB) (bool, string, error) {
		for _, sp := range e.storePartitions(t.key) {
			tp := topicPartition{e.topics[sp.Changelog].name, t.key.partition}
			local, found, err := db.ChangelogOffset(sp.Name, t.key.partition)
			if err != nil {
				return false, "", err
			}
			b := bounds[tp]
			if !found {
				return false, fmt.Sprintf("no changelog offset recorded for store %s", sp.Name), nil
			}
			if local < b.start || local > b.end {
				return false, fmt.Sprintf("store %s at changelog offset %d is outside the changelog [%d, %d]", sp.Name, local, b.start, b.end), nil
			}
			from[tp] = local
		}
		return true, "", nil
	}
	try := func(source string) (string, bool, error) {
		db, err := e.pool.Open(name)
		if err != nil {
			return "", false, err
		}
		ok, why, err := usable(db)
		if err == nil && ok {
			t.db = db
			return source, true, nil
		}
		db.Close()
		if err != nil {
			return "", false, err
		}
		e.log.Warn("state not usable; trying the next source", "task", t.key, "state", source, "reason", why)
		clear(from)
		return "", false, e.pool.Remove(name)
	}

	if e.hasLocalInstance(name) {
		if src, ok, err := try("local state"); ok || err != nil {
			return src, err
		}
	}
	for _, cp := range e.snapshotsOf(ctx, t.id) {
		staging := filepath.Join(e.pool.StagingDir(), fmt.Sprintf("restore-%s-%d", name, cp.ID))
		os.RemoveAll(staging)
		begin := time.Now()
		// Download checks every file's size and SHA-256 against the manifest;
		// opening the checkpoint read-only (RocksDB's paranoid checks: every
		// file the MANIFEST names present with its size) proves it a whole
		// database. RocksDB verifies block checksums as blocks are read
		// afterwards. A full scan (rocks.VerifyCheckpoint) would cost most of
		// the restore time of a large store (0.6–1.2 s per million keys,
		// BenchmarkVerifyCheckpoint in state/rocks).
		m, err := snapshot.Download(ctx, e.snaps, cp.ManifestRef, staging)
		if err == nil {
			_, err = rocks.ReadCheckpointOffsets(staging)
		}
		if err != nil {
			os.RemoveAll(staging)
			e.log.Warn("snapshot unusable; falling back to an older checkpoint or the changelog", "task", t.key, "checkpoint", cp.ID, "err", err)
			e.metrics.snapshotFallbacks.Inc()
			continue
		}
		if err := e.pool.Install(name, staging); err != nil {
			os.RemoveAll(staging)
			return "", err
		}
		src := fmt.Sprintf("snapshot of checkpoint %d (%d files, downloaded in %s)", cp.ID, len(m.Files), time.Since(begin).Round(time.Millisecond))
		if src, ok, err := try(src); ok || err != nil {
			return src, err
		}
	}
	// Nothing usable: an empty instance filled from the whole changelog.
	if e.hasLocalInstance(name) {
		if err := e.pool.Remove(name); err != nil {
			return "", err
		}
	}
	db, err := e.pool.Open(name)
	if err != nil {
		return "", err
	}
	t.db = db
	return "full changelog replay", nil
}

// snapshotCandidate is a snapshot a task's state may be restored from.
type snapshotCandidate struct {
	ID          uint64
	ManifestRef string
}

// snapshotsOf lists the snapshots of a task, newest first: those of the
// checkpoints the coordinator recorded complete, then any other manifest in the
// snapshot store (a group that lost every disk still finds its snapshots
// there). A task's snapshot is consistent on its own, with the changelog
// offsets it records, whether or not its checkpoint completed everywhere.
func (e *Engine) snapshotsOf(ctx context.Context, id coordinator.TaskID) []snapshotCandidate {
	var out []snapshotCandidate
	seen := map[string]bool{}
	for _, cp := range e.node.LatestComplete(id) {
		if cp.ManifestRef != "" && !seen[cp.ManifestRef] {
			seen[cp.ManifestRef] = true
			out = append(out, snapshotCandidate{cp.ID, cp.ManifestRef})
		}
	}
	refs, err := snapshot.ListComplete(ctx, e.snaps, e.cfg.AppID, id.String())
	if err != nil {
		e.log.Warn("list snapshots", "task", id, "err", err)
	}
	for _, r := range refs {
		if !seen[r.Ref] {
			seen[r.Ref] = true
			out = append(out, snapshotCandidate{r.Checkpoint, r.Ref})
		}
	}
	slices.SortStableFunc(out, func(a, b snapshotCandidate) int { return cmp.Compare(b.ID, a.ID) })
	return out
}

func (e *Engine) hasLocalInstance(name string) bool {
	names, err := e.pool.Instances()
	return err == nil && slices.Contains(names, name)
}

// storePartitions lists the specs of a task's stores.
func (e *Engine) storePartitions(k taskKey) []runtime.StoreSpec {
	var out []runtime.StoreSpec
	for _, si := range e.prog.SubTopologies[k.subTopology].Stores {
		out = append(out, e.prog.Stores[si])
	}
	return out
}

type bounds struct{ start, end int64 }

// changelogBoundsOf lists the start and end offsets of a task's changelog
// partitions, retrying while freshly created topics are not yet visible.
func (e *Engine) changelogBoundsOf(ctx context.Context, st runtime.SubTopologySpec, p int32) (map[topicPartition]bounds, error) {
	var topics []string
	for _, si := range st.Stores {
		topics = append(topics, e.topics[e.prog.Stores[si].Changelog].name)
	}
	out := map[topicPartition]bounds{}
	if len(topics) == 0 {
		return out, nil
	}
	for attempt := 0; ; attempt++ {
		starts, err := e.adm.ListStartOffsets(ctx, topics...)
		var ends kadm.ListedOffsets
		if err == nil {
			ends, err = e.adm.ListEndOffsets(ctx, topics...)
		}
		missing := false
		if err == nil {
			for _, topic := range topics {
				s, ok1 := starts.Lookup(topic, p)
				en, ok2 := ends.Lookup(topic, p)
				if !ok1 || !ok2 || s.Err != nil || en.Err != nil {
					missing = true
					break
				}
				out[topicPartition{topic, p}] = bounds{s.Offset, en.Offset}
			}
		}
		if err == nil && !missing {
			return out, nil
		}
		if attempt == 50 {
			if err == nil {
				err = fmt.Errorf("offsets of partition %d of %v are unavailable", p, topics)
			}
			return nil, fmt.Errorf("list changelog offsets: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// replayChangelogs applies each store partition's changelog from from to its end,
// writing straight to the store (not back to the changelog), and records the
// end as the store's changelog offset.
func (e *Engine) replayChangelogs(ctx context.Context, t *task, from map[topicPartition]int64, b map[topicPartition]bounds) (int64, error) {
	plan := map[string]map[int32]kgo.Offset{}
	targets := map[topicPartition]*storePartition{}
	remaining := map[topicPartition]int64{}
	offsets := map[rocks.StorePartition]int64{}
	for _, sp := range t.stores {
		tp := topicPartition{sp.changelog, sp.partition}
		end := b[tp].end
		e.mu.Lock()
		e.changelogs[tp] = max(e.changelogs[tp], end)
		e.mu.Unlock()
		if sp.spec.Persistent {
			offsets[rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = end
		}
		if from[tp] >= end {
			continue
		}
		if plan[sp.changelog] == nil {
			plan[sp.changelog] = map[int32]kgo.Offset{}
		}
		plan[sp.changelog][sp.partition] = kgo.NewOffset().At(from[tp])
		targets[tp] = sp
		remaining[tp] = end
	}
	var applied int64
	if len(plan) > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.cfg.Brokers...), kgo.ConsumePartitions(plan),
			kgo.FetchMaxWait(100*time.Millisecond), kgo.WithLogger(kgoLogger{e.log}))
		if err != nil {
			return 0, err
		}
		defer cl.Close()
		for len(remaining) > 0 {
			fetches := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return applied, ctx.Err()
			}
			fetches.EachError(func(topic string, p int32, err error) {
				e.log.Warn("restore fetch failed; retrying", "topic", topic, "partition", p, "err", err)
			})
			var applyErr error
			fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
				tp := topicPartition{ftp.Topic, ftp.Partition}
				sp, ok := targets[tp]
				if !ok || applyErr != nil {
					return
				}
				for _, r := range ftp.Records {
					if r.Offset >= remaining[tp] {
						break
					}
					if r.Value == nil {
						applyErr = sp.raw.Delete(r.Key)
					} else {
						applyErr = sp.raw.Put(r.Key, r.Value)
					}
					if applyErr != nil {
						return
					}
					applied++
				}
				// The end may sit past the last record (transaction markers,
				// compaction), so the high watermark also ends the replay.
				if n := len(ftp.Records); (n > 0 && ftp.Records[n-1].Offset+1 >= remaining[tp]) || ftp.HighWatermark >= remaining[tp] && n > 0 && ftp.Records[n-1].Offset+1 >= ftp.HighWatermark {
					delete(remaining, tp)
				}
			})
			if applyErr != nil {
				return applied, fmt.Errorf("restore: %w", applyErr)
			}
		}
	}
	if t.db != nil && len(offsets) > 0 {
		if err := t.db.SetChangelogOffsets(offsets); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// stopTasks ends tasks that moved elsewhere cleanly: their state is flushed and
// acknowledged and their input offsets committed before they close, so the new
// owner starts exactly where they stopped.
func (e *Engine) stopTasks(ctx context.Context, stop []*task) error {
	if err := e.commitTasks(ctx, stop); err != nil {
		return err
	}
	for _, t := range stop {
		e.closeTask(t)
		e.log.Info("task stopped", "task", t.key)
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
	abort, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := e.producer.AbortBufferedRecords(abort); err != nil {
		e.log.Warn("abort buffered records", "err", err)
	}
	cancel()
	e.mu.Lock()
	e.produceErr = nil // the aborted records' errors
	e.mu.Unlock()
	for _, t := range e.tasks {
		e.closeTask(t)
		if t.db != nil {
			if err := e.pool.Remove(t.key.String()); err != nil {
				e.log.Warn("remove fenced task state", "task", t.key, "err", err)
			}
		}
	}
	e.log.Warn("fenced: dropped every task without committing", "reason", reason, "tasks", len(e.tasks), "writes_dropped", e.fencedWrites)
	e.fencedWrites = 0
	clear(e.tasks)
	clear(e.positions)
	e.closeConsumer()
	e.reportRunning()
}

// closeTask forgets a task: its inputs' positions (unless another running task
// reads them too) and its RocksDB instance.
func (e *Engine) closeTask(t *task) {
	delete(e.tasks, t.key)
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
			e.log.Warn("close task state", "task", t.key, "err", err)
		}
		t.db = nil
	}
	e.ckpt.forget(t.key)
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
	e.consumer, err = kgo.NewClient(
		kgo.SeedBrokers(e.cfg.Brokers...),
		kgo.ConsumePartitions(assign),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.WithLogger(kgoLogger{e.log}),
	)
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
