package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
	"github.com/gofka/streams/state/rocks"
)

// Restore modes.
const (
	fromSnapshot = "snapshot"  // state/ deleted: newest snapshot + changelog tail
	fromReplay   = "changelog" // state/ and the snapshots deleted: whole changelog
)

// restoreRun is one restart of the replica after its local state was deleted.
type restoreRun struct {
	Run  int    `json:"run"`
	Mode string `json:"mode"`
	// ReadySeconds: from starting the process until /readyz answered 200 with
	// every task running.
	ReadySeconds float64 `json:"ready_s"`
	// RestoreSeconds: the sum of the tasks' restore_duration (they restore one
	// after another); MaxTaskSeconds the longest one.
	RestoreSeconds float64  `json:"restore_s"`
	MaxTaskSeconds float64  `json:"max_task_restore_s"`
	Replayed       int64    `json:"changelog_records_replayed"`
	StateFrom      []string `json:"state_from"` // per task, as /status says
	PeakRSSMB      float64  `json:"replica_peak_rss_mb"`
	// Keys and Verified: the store read back after the restore.
	Keys     int64 `json:"keys"`
	Verified bool  `json:"verified"`
}

// restoreResult is the restore scenario's measurements.
type restoreResult struct {
	Keys           int          `json:"keys"`
	LoadSeconds    float64      `json:"load_s"`
	ProcessSeconds float64      `json:"process_s"` // start to the whole input reflected in the output
	StoreMB        float64      `json:"store_mb"`  // the RocksDB instances on disk after processing
	SnapshotMB     float64      `json:"snapshot_mb"`
	Runs           []restoreRun `json:"runs"`
	BrokerPeakMB   float64      `json:"broker_peak_rss_mb"`
	ReplicaPeakMB  float64      `json:"replica_peak_rss_mb"` // while processing the input
	Checkpoint     string       `json:"checkpoint_interval"`
	FillMemory     string       `json:"fill_memory"`
}

// runRestore fills a single replica's store with -keys keys, takes a snapshot,
// and restarts it -runs times in each mode with its local state deleted.
func runRestore(ctx context.Context, e *env) (*restoreResult, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	appID := "bench-restore-" + e.token
	l, err := e.brokers.acquire(ctx, "restore")
	if err != nil {
		return nil, err
	}
	defer l.release([]string{inputTopic, outputTopic}, []string{appID})
	if err := resetTopics(ctx, l.addr, e.cfg.partitions, inputTopic, outputTopic); err != nil {
		return nil, err
	}
	res := &restoreResult{Keys: e.cfg.keys, Checkpoint: e.cfg.checkpointInterval.String(), FillMemory: e.cfg.fillMemory}
	begin := time.Now()
	if err := load(ctx, l.addr, inputTopic, e.cfg.keys, distinctUsers); err != nil {
		return nil, err
	}
	res.LoadSeconds = time.Since(begin).Seconds()
	e.cfg.logf("restore: loaded %d clicks of distinct users in %.1f s\n", e.cfg.keys, res.LoadSeconds)

	dir := filepath.Join(e.scratch, "restore")
	rs, err := newReplicas(e, dir, l.addr, appID, 1)
	if err != nil {
		return nil, err
	}
	r := rs[0]
	defer r.killGroup()
	snaps := filepath.Join(dir, "snapshots")
	stateDir := filepath.Join(r.replicaDir(appID), "state")

	cl, err := kgo.NewClient(kgo.SeedBrokers(l.addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// Count every key once, then wait for a checkpoint taken after that.
	defaults := r.args
	if e.cfg.fillMemory != "" {
		r.args = append(slices.Clone(defaults), "--memory", e.cfg.fillMemory)
	}
	if err := r.start(); err != nil {
		return nil, err
	}
	begin = time.Now()
	err = testkit.WaitFor(ctx, e.cfg.timeout, func() bool {
		r.sample()
		if r.exited() {
			return true
		}
		n, err := endOffsetSum(ctx, adm, outputTopic)
		return err == nil && n >= int64(e.cfg.keys)
	})
	if err == nil && r.exited() {
		err = fmt.Errorf("%s exited: %v", r.name, r.err)
	}
	if err != nil {
		return nil, fmt.Errorf("waiting until %d keys are counted: %w\n%s", e.cfg.keys, err, tailFile(r.logPath, 20))
	}
	processed := time.Now()
	res.ProcessSeconds = processed.Sub(begin).Seconds()
	e.cfg.logf("restore: %d keys counted in %.1f s; waiting for a checkpoint\n", e.cfg.keys, res.ProcessSeconds)
	if err := waitCheckpoint(ctx, rs, []int{0}, processed, 3*e.cfg.checkpointInterval+5*time.Minute); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tailFile(r.logPath, 20))
	}
	if err := r.stop(2 * time.Minute); err != nil {
		return nil, err
	}
	res.ReplicaPeakMB = float64(r.peakKB) / 1024
	r.args = defaults
	res.StoreMB = float64(dirSize(stateDir)) / (1 << 20)
	res.SnapshotMB = float64(dirSize(snaps)) / (1 << 20)
	want := expectedDigest(e.cfg.keys)

	// Alternate which mode goes first; a snapshot must exist before every
	// snapshot restore, so a replay that one follows waits for a checkpoint.
	var plan []restoreRun
	for run := 1; run <= e.cfg.runs; run++ {
		modes := []string{fromSnapshot, fromReplay}
		if run%2 == 0 {
			modes = []string{fromReplay, fromSnapshot}
		}
		for _, m := range modes {
			plan = append(plan, restoreRun{Run: run, Mode: m})
		}
	}
	for i, rr := range plan {
		needSnapshot := i+1 < len(plan) && plan[i+1].Mode == fromSnapshot
		rr, err := restoreOnce(ctx, e, r, rr, stateDir, snaps, needSnapshot)
		if err != nil {
			return nil, fmt.Errorf("run %d, restore from %s: %w", rr.Run, rr.Mode, err)
		}
		if e.cfg.verify {
			got, err := readDigest(r.replicaDir(appID))
			if err != nil {
				return nil, fmt.Errorf("run %d, restore from %s: read the store back: %w", rr.Run, rr.Mode, err)
			}
			rr.Keys = got.keys
			if got != want {
				return nil, fmt.Errorf("run %d, restore from %s: the store holds %d keys (digest %x, %d values other than 1), want %d keys counted once (digest %x)",
					rr.Run, rr.Mode, got.keys, got.sum, got.notOne, want.keys, want.sum)
			}
			rr.Verified = true
		}
		e.cfg.logf("restore run %d from %s: ready after %.2f s, tasks restored in %.2f s (%d changelog records replayed)\n",
			rr.Run, rr.Mode, rr.ReadySeconds, rr.RestoreSeconds, rr.Replayed)
		res.Runs = append(res.Runs, rr)
	}
	res.BrokerPeakMB = l.peakRSSMB()
	return res, nil
}

// restoreOnce deletes the replica's local state (and for a replay the
// snapshots), starts it, times its restore and stops it again; with
// needSnapshot it first waits for a checkpoint so that the next restore has a
// snapshot of the restored store.
func restoreOnce(ctx context.Context, e *env, r *replica, rr restoreRun, stateDir, snaps string, needSnapshot bool) (restoreRun, error) {
	if err := os.RemoveAll(stateDir); err != nil {
		return rr, err
	}
	if rr.Mode == fromReplay {
		if err := os.RemoveAll(snaps); err != nil {
			return rr, err
		}
		if err := os.MkdirAll(snaps, 0o755); err != nil {
			return rr, err
		}
	}
	if err := r.start(); err != nil {
		return rr, err
	}
	want := len(allTasks(e.cfg.partitions))
	var st statusDoc
	err := testkit.WaitFor(ctx, 30*time.Minute, func() bool {
		r.sample()
		if r.exited() || !r.ready(ctx) {
			return r.exited()
		}
		var err error
		st, err = r.status(ctx)
		return err == nil && len(st.Replica.Tasks) == want
	})
	ready := time.Since(r.started)
	if err == nil && r.exited() {
		err = fmt.Errorf("%s exited: %v", r.name, r.err)
	}
	if err != nil {
		return rr, fmt.Errorf("waiting until ready: %w\n%s", err, tailFile(r.logPath, 20))
	}
	rr.ReadySeconds = ready.Seconds()
	for _, t := range st.Replica.Tasks {
		rr.RestoreSeconds += t.RestoreSeconds
		rr.MaxTaskSeconds = max(rr.MaxTaskSeconds, t.RestoreSeconds)
		rr.Replayed += t.Replayed
		rr.StateFrom = append(rr.StateFrom, t.Task+": "+t.StateFrom)
		// The stateful tasks must have restored the way the mode means.
		if strings.HasPrefix(t.Task, "1_") {
			ok := strings.HasPrefix(t.StateFrom, "snapshot of checkpoint")
			if rr.Mode == fromReplay {
				ok = t.StateFrom == "full changelog replay"
			}
			if !ok {
				return rr, fmt.Errorf("task %s restored from %q, not from the %s", t.Task, t.StateFrom, rr.Mode)
			}
		}
	}
	if needSnapshot {
		if err := waitCheckpoint(ctx, []*replica{r}, []int{0}, time.Now(), 3*e.cfg.checkpointInterval+5*time.Minute); err != nil {
			return rr, err
		}
	}
	if err := r.stop(2 * time.Minute); err != nil {
		return rr, err
	}
	rr.PeakRSSMB = float64(r.peakKB) / 1024
	return rr, nil
}

// digest summarises a store without holding it: how many keys, an
// order-independent sum of hashes of (key, value), and how many values are
// not a count of 1.
type digest struct {
	keys   int64
	sum    uint64
	notOne int64
}

func entryHash(k, v []byte) uint64 {
	h := fnv.New64a()
	h.Write(k)
	h.Write([]byte{0})
	h.Write(v)
	return h.Sum64()
}

// expectedDigest is the store the restore scenario's input must produce: every
// user-<i> counted once.
func expectedDigest(keys int) digest {
	d := digest{keys: int64(keys)}
	one := binary.BigEndian.AppendUint64(nil, 1)
	for i := range keys {
		d.sum += entryHash([]byte("user-"+strconv.Itoa(i)), one)
	}
	return d
}

// readDigest opens the RocksDB instances of a stopped replica and digests every
// partition of the click-counts store.
func readDigest(replicaDir string) (digest, error) {
	var d digest
	pool, err := rocks.OpenPool(filepath.Join(replicaDir, "state"), rocks.Memory{BlockCache: 16 << 20, WriteBuffers: 16 << 20})
	if err != nil {
		return d, err
	}
	defer pool.Close()
	names, err := pool.Instances()
	if err != nil {
		return d, err
	}
	for _, name := range names {
		db, err := pool.Open(name)
		if err != nil {
			return d, err
		}
		for _, sp := range db.Stores() {
			if sp.Store != "click-counts" {
				continue
			}
			s, err := db.Store(sp.Store, sp.Partition)
			if err != nil {
				db.Close()
				return d, err
			}
			err = s.Range(func(k, v []byte) error {
				d.keys++
				d.sum += entryHash(k, v)
				if len(v) != 8 || binary.BigEndian.Uint64(v) != 1 {
					d.notOne++
				}
				return nil
			})
			if err != nil {
				db.Close()
				return d, fmt.Errorf("read %s partition %d: %w", sp.Store, sp.Partition, err)
			}
		}
		if err := db.Close(); err != nil {
			return d, err
		}
	}
	return d, nil
}
