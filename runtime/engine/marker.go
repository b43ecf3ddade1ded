package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state/rocks"
)

// Clean-shutdown markers (exactly-once). Local RocksDB state may hold updates
// of a transaction that never committed (a cache eviction or flush before a
// crash), so under exactly-once a task normally starts from a snapshot and the
// committed changelog. After a clean close it need not: the last commit
// succeeded and nothing was written after it, so the local state is exactly
// the committed state. Kafka Streams marks that with a .checkpoint file; here:
//
//	clean close (graceful stop, a task moving away) after a successful commit
//	  ─▶ RocksDB memtables flushed to SST files ─▶ instance closed
//	  ─▶ marker in the instance's directory, fsynced: the changelog offsets its stores hold and
//	     the input offsets committed with them
//	task start ─▶ marker read and deleted, durably, before the instance is opened (rocks.Pool.TakeMarker)
//	  ─▶ usable (markerFits, then the instance's own offsets equal the marker's) ─▶ local state +
//	     the committed changelog after the marker's offsets
//	  ─▶ otherwise, or no marker (a crash) ─▶ local state wiped; snapshot + committed changelog as before
//
// Deleting the marker on open means that a process that crashes after
// opening the state (and may have written uncommitted updates into it) leaves
// no marker behind: the next start wipes the state.

// cleanMarker is the content of a task's marker.
type cleanMarker struct {
	Version int    `json:"version"`
	App     string `json:"app"`
	Task    string `json:"task"`
	// Changelog maps "topic/partition" to the changelog offset the local
	// state holds (the end of the last committed transaction's writes).
	Changelog map[string]int64 `json:"changelog_offsets"`
	// Inputs maps "topic/partition" to the input offset committed with it.
	Inputs  map[string]int64 `json:"input_offsets"`
	Written time.Time        `json:"written"`
}

const markerVersion = 1

// localNeedsMarker reports whether a task's local state is trusted at its next
// start only with a clean-shutdown marker. Under exactly-once it may hold
// updates of transactions that never committed. A window, session or
// suppression store may hold deletes ahead of the last commit under either
// guarantee (expiry removes windows as stream time passes, at once, not at
// the next flush), and replaying the input after them would count the
// replayed records into windows already gone; so after a crash such a task
// restores from a snapshot and the changelog, which hold committed state.
func (e *Engine) localNeedsMarker(k coordinator.TaskID) bool {
	if e.cfg.ExactlyOnce {
		return true
	}
	for _, si := range e.prog.SubTopologies[k.SubTopology].Stores {
		if e.prog.Stores[si].Kind != runtime.KeyValueStore {
			return true
		}
	}
	return false
}

// closeCleanly closes tasks whose last commit succeeded; where local state
// needs a marker to be trusted (localNeedsMarker) it leaves one on the local
// state of each, so that their next start here uses it.
func (e *Engine) closeCleanly(tasks []*task) {
	for _, t := range tasks {
		e.closeWithMarker(t, func() error { e.closeTask(t); return nil }, "no clean-shutdown marker: the next start restores from a snapshot")
	}
}

// closeWithMarker describes t's committed local state (markerOf) where it
// needs a marker, closes it with closeState, and then writes the marker;
// noMarker is the warning logged when it cannot. A task's clean close and a
// standby's close share it.
func (e *Engine) closeWithMarker(t *task, closeState func() error, noMarker string) {
	var m *cleanMarker
	if e.localNeedsMarker(t.id) && t.db != nil {
		var err error
		if m, err = e.markerOf(t); err != nil {
			e.log.Warn(noMarker, "task", t.id, "err", err)
			m = nil
		}
	}
	if err := closeState(); err != nil || m == nil {
		return
	}
	data, _ := json.Marshal(m)
	if err := e.pool.WriteMarker(t.id.String(), data); err != nil {
		e.log.Warn(noMarker, "task", t.id, "err", err)
		return
	}
	e.log.Info("clean-shutdown marker written", "task", t.id, "changelog_offsets", m.Changelog)
}

// markerOf describes a task's committed local state, once it is on disk:
// its memtables are flushed to SST files (RocksDB syncs them), so the marker
// does not depend on the write-ahead log, which is not synced per write.
func (e *Engine) markerOf(t *task) (*cleanMarker, error) {
	m := &cleanMarker{Version: markerVersion, App: e.cfg.AppID, Task: t.id.String(),
		Changelog: map[string]int64{}, Inputs: map[string]int64{}, Written: time.Now().UTC()}
	for _, sp := range t.stores {
		if !sp.spec.Persistent {
			continue
		}
		o, ok, err := t.db.ChangelogOffset(sp.spec.Name, sp.partition)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("store %s has no changelog offset", sp.spec.Name)
		}
		m.Changelog[topicPartition{sp.changelog, sp.partition}.String()] = o
	}
	for _, tp := range t.inputs {
		if at, ok := e.positions[tp]; ok && at >= 0 {
			m.Inputs[tp.String()] = at
		}
	}
	return m, t.db.Flush()
}

// takeMarker reads and durably deletes the marker of task k's local state;
// nil when there is none or it cannot be read (then it is not used).
func (e *Engine) takeMarker(k coordinator.TaskID) (*cleanMarker, error) {
	data, err := e.pool.TakeMarker(k.String())
	if err != nil || data == nil {
		return nil, err
	}
	var m cleanMarker
	if err := json.Unmarshal(data, &m); err != nil {
		e.log.Warn("clean-shutdown marker unreadable; not used", "task", k, "err", err)
		return nil, nil
	}
	return &m, nil
}

// markerFits says why a marker's local state cannot be brought to the
// committed state by replaying the changelog after it, or "" when it can:
// the committed changelog must still hold every offset after the marker's
// (not truncated, compacted away or recreated: fits checks the range), no
// complete snapshot of the task (snapshots, the coordinator's) may claim a changelog end the committed changelog does
// not reach (records the local state may hold were lost by the brokers), and
// the committed input offsets must not be behind the marker's (offsets reset:
// the state would be ahead of the input).
func (e *Engine) markerFits(m *cleanMarker, k coordinator.TaskID, b map[topicPartition]bounds, committed kadm.OffsetResponses,
	snapshots []coordinator.TaskCheckpoint) string {
	if m.Version != markerVersion || m.App != e.cfg.AppID || m.Task != k.String() {
		return fmt.Sprintf("marker of %s/%s version %d, not of this task", m.App, m.Task, m.Version)
	}
	why, _ := e.fits(k, b, map[topicPartition]int64{}, func(_ runtime.StoreSpec, tp topicPartition) (int64, bool, error) {
		o, ok := m.Changelog[tp.String()]
		return o, ok, nil
	})
	if why != "" {
		return why
	}
	for _, cp := range snapshots {
		for tp, o := range cp.ChangelogOffsets {
			if end, ok := changelogEnd(b, tp); ok && o > end {
				return fmt.Sprintf("the snapshot of checkpoint %d has %s at offset %d, past its committed end %d", cp.ID, tp, o, end)
			}
		}
	}
	now := map[string]int64{}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil {
			now[topicPartition{o.Topic, o.Partition}.String()] = o.At
		}
	})
	for tp, at := range m.Inputs {
		if c, ok := now[tp]; !ok || c < at {
			return fmt.Sprintf("input %s committed at %d (found %v), behind the marker's %d", tp, c, ok, at)
		}
	}
	return ""
}

// localMatchesMarker says why the opened local state is not the one the
// marker describes, or "".
func (e *Engine) localMatchesMarker(db *rocks.DB, m *cleanMarker, k coordinator.TaskID) (string, error) {
	for _, spec := range e.storePartitions(k) {
		if !spec.Persistent {
			continue
		}
		want := m.Changelog[topicPartition{e.topics[spec.Changelog].name, k.Partition}.String()]
		o, ok, err := db.ChangelogOffset(spec.Name, k.Partition)
		if err != nil {
			return "", err
		}
		if !ok || o != want {
			return fmt.Sprintf("store %s holds changelog offset %d (recorded %v), the marker %d", spec.Name, o, ok, want), nil
		}
	}
	return "", nil
}

func changelogEnd(b map[topicPartition]bounds, tp string) (int64, bool) {
	for k, v := range b {
		if k.String() == tp {
			return v.end, true
		}
	}
	return 0, false
}
