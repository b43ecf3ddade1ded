package engine

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/internal/progress"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state/rocks"
	"github.com/gofka/streams/state/snapshot"
)

// Restoring a task's state when it starts here: local RocksDB, else a snapshot,
// else nothing; then its changelogs from the state's offsets to their end.

// openTaskState opens the task's RocksDB instance from, in order of preference:
// the local instance when its recorded changelog offsets lie within the
// changelogs (under exactly-once only after a clean shutdown: marker.go); the
// newest complete snapshot that does and that downloads and verifies; an
// older one; or nothing (full changelog replay). It fills from with the
// offsets the state covers and says where the state came from. Sources
// passed over make one log line per task: an old state directory against a
// fresh broker passes over every snapshot.
func (e *Engine) openTaskState(ctx context.Context, t *task, bounds map[topicPartition]bounds, committed kadm.OffsetResponses,
	from map[topicPartition]int64) (stateFrom string, err error) {
	name := t.id.String()
	var passed []string // the sources passed over, and why
	defer func() {
		if len(passed) > 0 && err == nil {
			e.log.Warn("state not usable; restored from an older source", "task", t.id, "passed_over", len(passed),
				"newest", passed[0], "state_from", stateFrom)
			e.log.Debug("state sources passed over", "task", t.id, "sources", strings.Join(passed, "; "))
		}
	}()
	// try opens the instance as it is on disk and keeps it if check (when
	// given) and the changelog bounds accept it; otherwise it removes it.
	try := func(source string, check func(*rocks.DB) (string, error)) (bool, error) {
		db, err := e.pool.Open(name)
		if err != nil {
			return false, err
		}
		why := ""
		if check != nil {
			why, err = check(db)
		}
		if err == nil && why == "" {
			why, err = e.fits(t.id, bounds, from, func(sp runtime.StoreSpec, _ topicPartition) (int64, bool, error) {
				return db.ChangelogOffset(sp.Name, t.id.Partition)
			})
		}
		if err == nil && why == "" {
			t.db = db
			return true, nil
		}
		db.Close()
		if err != nil {
			return false, err
		}
		passed = append(passed, source+": "+why)
		return false, e.pool.Remove(name)
	}

	if e.hasLocalInstance(name) {
		src, ok, err := e.openLocal(t.id, bounds, committed, try, &passed)
		if ok || err != nil {
			return src, err
		}
	}
	for _, cp := range e.snapshotsOf(ctx, t.id) {
		src, err := e.downloadSnapshot(ctx, t, cp, bounds, &passed)
		if err != nil {
			return "", err
		}
		if src == "" {
			continue // passed over
		}
		if ok, err := try(src, nil); ok || err != nil {
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

// openLocal tries the task's local instance. Under exactly-once local state
// may hold updates of transactions that never committed (a crash between a
// cache flush and the commit), and a windowed store deletes ahead of the
// commit under either guarantee (localNeedsMarker), so such state is used only
// with a clean-shutdown marker that fits (marker.go) and otherwise wiped:
// snapshots, which hold committed state, and the committed changelog are trusted. The marker is
// deleted first, under either guarantee, so that it is never used twice.
func (e *Engine) openLocal(k coordinator.TaskID, bounds map[topicPartition]bounds, committed kadm.OffsetResponses,
	try func(string, func(*rocks.DB) (string, error)) (bool, error), passed *[]string) (string, bool, error) {
	m, err := e.takeMarker(k)
	if err != nil {
		return "", false, err
	}
	if !e.localNeedsMarker(k) {
		ok, err := try("local state", nil)
		return "local state", ok, err
	}
	const source = "local state (clean shutdown)"
	if m == nil {
		*passed = append(*passed, "local state: no clean-shutdown marker (a crash, or a start that did not close)")
		return "", false, e.pool.Remove(k.String())
	}
	if why := e.markerFits(m, k, bounds, committed, e.node.LatestComplete(k)); why != "" {
		*passed = append(*passed, source+": "+why)
		return "", false, e.pool.Remove(k.String())
	}
	ok, err := try(source, func(db *rocks.DB) (string, error) { return e.localMatchesMarker(db, m, k) })
	return source, ok, err
}

// downloadSnapshot installs a snapshot as the task's instance and says where the
// state came from, or returns "" (and adds to passed) for a snapshot the
// changelogs no longer cover, which is not downloaded at all, or one that is
// corrupt or missing, which is also logged: it is damage in the store.
func (e *Engine) downloadSnapshot(ctx context.Context, t *task, cp snapshotCandidate, bounds map[topicPartition]bounds, passed *[]string) (string, error) {
	source := fmt.Sprintf("snapshot of checkpoint %d", cp.ID)
	m, err := snapshot.ReadManifest(ctx, e.snaps, cp.ManifestRef)
	if err == nil {
		why, _ := e.fits(t.id, bounds, map[topicPartition]int64{}, func(_ runtime.StoreSpec, tp topicPartition) (int64, bool, error) {
			o, ok := m.ChangelogOffsets[tp.String()]
			return o, ok, nil
		})
		if why != "" {
			*passed = append(*passed, source+": "+why)
			return "", nil
		}
	}
	name := t.id.String()
	staging := filepath.Join(e.pool.StagingDir(), fmt.Sprintf("restore-%s-%d", name, cp.ID))
	os.RemoveAll(staging)
	begin := time.Now()
	// Download checks every file's size and SHA-256 against the manifest;
	// opening the checkpoint read-only (RocksDB's paranoid checks: every file
	// the MANIFEST names present with its size) proves it a whole database.
	// RocksDB verifies block checksums as blocks are read afterwards. A full
	// scan (rocks.VerifyCheckpoint) would cost most of the restore time of a
	// large store (0.6–1.2 s per million keys, BenchmarkVerifyCheckpoint in
	// state/rocks).
	if err == nil && faultRestore.hit() {
		err = faultRestore.err()
	}
	if err == nil {
		var size int64
		for _, f := range m.Files {
			size += f.Size
		}
		p := progress.New(e.log, "downloading snapshot", "bytes", size, progressEvery, "task", t.id, "checkpoint", cp.ID, "files", len(m.Files))
		m, err = snapshot.DownloadWatched(ctx, e.snaps, cp.ManifestRef, staging, p.Add)
	}
	if err == nil {
		_, err = rocks.ReadCheckpointOffsets(staging)
	}
	if err != nil {
		os.RemoveAll(staging)
		e.log.Warn("snapshot unusable; falling back to an older checkpoint or the changelog", "task", t.id, "checkpoint", cp.ID, "err", err)
		e.metrics.snapshotFallbacks.Inc()
		*passed = append(*passed, source+": unusable")
		return "", nil
	}
	if err := e.pool.Install(name, staging); err != nil {
		os.RemoveAll(staging)
		return "", err
	}
	return fmt.Sprintf("%s (%d files, downloaded in %s)", source, len(m.Files), time.Since(begin).Round(time.Millisecond)), nil
}

// fits says why state cannot be used with the changelogs as they are now, or ""
// when it can, and then fills from with where each changelog's replay starts.
// offsetOf gives the state's changelog offset for a store partition.
func (e *Engine) fits(id coordinator.TaskID, bounds map[topicPartition]bounds, from map[topicPartition]int64,
	offsetOf func(runtime.StoreSpec, topicPartition) (int64, bool, error)) (string, error) {
	at := map[topicPartition]int64{}
	for _, sp := range e.storePartitions(id) {
		tp := topicPartition{e.topics[sp.Changelog].name, id.Partition}
		o, found, err := offsetOf(sp, tp)
		if err != nil {
			return "", err
		}
		if !found {
			return fmt.Sprintf("no changelog offset recorded for store %s", sp.Name), nil
		}
		if b := bounds[tp]; o < b.start || o > b.end {
			return fmt.Sprintf("store %s at changelog offset %d is outside the changelog [%d, %d]", sp.Name, o, b.start, b.end), nil
		}
		at[tp] = o
	}
	maps.Copy(from, at)
	return "", nil
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
func (e *Engine) storePartitions(k coordinator.TaskID) []runtime.StoreSpec {
	var out []runtime.StoreSpec
	for _, si := range e.prog.SubTopologies[k.SubTopology].Stores {
		out = append(out, e.prog.Stores[si])
	}
	return out
}

type bounds struct{ start, end int64 }

// changelogBounds lists the start and end offsets of the changelog partitions
// of the given tasks, all in one listing (a replica starting many tasks asks
// once, not twice per task), retrying while freshly created topics are not yet
// visible.
func (e *Engine) changelogBounds(ctx context.Context, tasks []coordinator.TaskID) (map[topicPartition]bounds, error) {
	var topics []string
	var want []topicPartition
	for _, k := range tasks {
		for _, si := range e.prog.SubTopologies[k.SubTopology].Stores {
			topic := e.topics[e.prog.Stores[si].Changelog].name
			if !slices.Contains(topics, topic) {
				topics = append(topics, topic)
			}
			want = append(want, topicPartition{topic, k.Partition})
		}
	}
	out := map[topicPartition]bounds{}
	if len(topics) == 0 {
		return out, nil
	}
	for attempt := 0; ; attempt++ {
		starts, err := e.adm.ListStartOffsets(ctx, topics...)
		var ends kadm.ListedOffsets
		if err == nil && e.cfg.ExactlyOnce {
			ends, err = e.adm.ListCommittedOffsets(ctx, topics...) // the last stable offset
		} else if err == nil {
			ends, err = e.adm.ListEndOffsets(ctx, topics...)
		}
		var missing *topicPartition
		if err == nil {
			for _, tp := range want {
				s, ok1 := starts.Lookup(tp.topic, tp.partition)
				en, ok2 := ends.Lookup(tp.topic, tp.partition)
				if !ok1 || !ok2 || s.Err != nil || en.Err != nil {
					missing = &tp
					break
				}
				out[tp] = bounds{s.Offset, en.Offset}
			}
		}
		if err == nil && missing == nil {
			return out, nil
		}
		if attempt == 50 {
			if err == nil {
				err = fmt.Errorf("offsets of %s are unavailable", missing)
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
	rp := e.newReplayProgress(t.id, from, remaining)
	defer rp.finish()
	if len(plan) > 0 {
		opts := []kgo.Opt{kgo.ConsumePartitions(plan), kgo.FetchMaxWait(100 * time.Millisecond)}
		if e.cfg.ExactlyOnce {
			// Committed records only, and the transaction markers too (never
			// applied): the end of a changelog may be a marker.
			opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
		}
		cl, err := kgo.NewClient(e.clientOpts(opts...)...)
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
				var n int64
				n, applyErr = applyChangelog(sp, ftp.Records, remaining[tp], rp.at[tp])
				applied += n
				e.metrics.restoreRecords.Add(float64(n))
				// The end may sit past the last record (transaction markers,
				// compaction), so the high watermark also ends the replay.
				if n := len(ftp.Records); (n > 0 && ftp.Records[n-1].Offset+1 >= remaining[tp]) || ftp.HighWatermark >= remaining[tp] && n > 0 && ftp.Records[n-1].Offset+1 >= ftp.HighWatermark {
					delete(remaining, tp)
				}
			})
			if applyErr != nil {
				return applied, fmt.Errorf("restore: %w", applyErr)
			}
			rp.update()
		}
	}
	if t.db != nil && len(offsets) > 0 {
		if err := t.db.SetChangelogOffsets(offsets); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// progressEvery is the interval between two progress lines of a restore or a
// snapshot download (0: progress.DefaultEvery); tests shorten it.
var progressEvery time.Duration

// applyChangelog writes the changelog records before end to the store, and
// moves *at past each; it returns how many it applied.
func applyChangelog(sp *storePartition, records []*kgo.Record, end int64, at *int64) (int64, error) {
	var n int64
	for _, r := range records {
		if r.Offset >= end {
			break
		}
		*at = r.Offset + 1
		if r.Attrs.IsControl() {
			continue
		}
		var err error
		if r.Value == nil {
			err = sp.raw.Delete(r.Key)
		} else {
			err = sp.raw.Put(r.Key, r.Value)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// replayProgress follows a task's changelog replay for
// gofka_restore_remaining_records and the progress log. Both count offsets:
// compaction and transaction markers may leave fewer records to apply.
type replayProgress struct {
	at        map[topicPartition]*int64 // the next offset to apply, per changelog partition
	remaining map[topicPartition]int64  // the end of each partition not yet replayed to its end
	total     int64
	gauge     prometheus.Gauge
	log       *progress.Logger
}

func (e *Engine) newReplayProgress(id coordinator.TaskID, from, remaining map[topicPartition]int64) *replayProgress {
	rp := &replayProgress{at: map[topicPartition]*int64{}, remaining: remaining}
	for tp, end := range remaining {
		at := from[tp]
		rp.at[tp] = &at
		rp.total += end - at
	}
	rp.gauge = e.metrics.restoreRemaining.WithLabelValues(id.String())
	rp.gauge.Set(float64(rp.total))
	rp.log = progress.New(e.log, "restoring", "records", rp.total, progressEvery, "task", id, "changelogs", len(remaining))
	return rp
}

// left is the offsets still to replay: none of a partition replayed to its end.
func (rp *replayProgress) left() int64 {
	var n int64
	for tp, end := range rp.remaining {
		n += end - *rp.at[tp]
	}
	return n
}

func (rp *replayProgress) update() {
	left := rp.left()
	rp.gauge.Set(float64(left))
	rp.log.Set(rp.total - left)
}

// finish publishes what is left when the replay ends: 0 once restored.
func (rp *replayProgress) finish() { rp.gauge.Set(float64(rp.left())) }
