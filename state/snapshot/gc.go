package snapshot

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// Snapshot is a complete snapshot found in a store.
type Snapshot struct {
	Task       string
	Checkpoint uint64
	Ref        string    // the manifest's key, for Download
	Stored     time.Time // when the manifest was written, by the store's clock
}

// ListComplete returns the complete snapshots of a task (those whose manifest is
// present), newest checkpoint first. It does not read the manifests; Download
// checks them.
func ListComplete(ctx context.Context, store Store, app, task string) ([]Snapshot, error) {
	if err := checkName("app", app); err != nil {
		return nil, fmt.Errorf("snapshot: list of complete snapshots: %w", err)
	}
	if err := checkName("task", task); err != nil {
		return nil, fmt.Errorf("snapshot: list of complete snapshots: %w", err)
	}
	objs, err := store.List(ctx, app+"/tasks/"+task+"/")
	if err != nil {
		return nil, err
	}
	var out []Snapshot
	for _, o := range objs {
		t, n, name, ok := checkpointKey(app, o.Key)
		if ok && t == task && name == manifestName {
			out = append(out, Snapshot{Task: task, Checkpoint: n, Ref: o.Key, Stored: o.Modified})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Checkpoint > out[j].Checkpoint })
	return out, nil
}

// GCOptions tune GC. The zero value is ready to use.
type GCOptions struct {
	// Grace: GC deletes no object modified less than Grace ago, and no checkpoint
	// any of whose objects is that young (default DefaultGrace). It protects
	// uploads in flight; see Uploader.
	Grace time.Duration
	// Now is the current time (default time.Now), compared with the store's
	// modification times.
	Now func() time.Time
	// Log receives one line per deleted checkpoint (default: discarded).
	Log *slog.Logger
}

// GC deletes what app's kept snapshots do not need. keep lists, per task, the
// checkpoints to keep; a task not in keep keeps nothing. GC deletes
//
//   - every object of a checkpoint that is not kept (its manifest first, so the
//     snapshot stops being complete before its files go), unless an object of that
//     checkpoint is younger than the grace period (an upload in flight, or one that
//     just finished);
//   - every SST no remaining manifest references and that is older than the grace
//     period.
//
// It never deletes an object a remaining manifest (kept, or spared as young)
// references. If a remaining manifest cannot be read or is corrupt, GC deletes
// nothing and says so: it cannot tell what that snapshot needs. It returns the
// number of objects deleted, also when it fails part way.
func GC(ctx context.Context, store Store, app string, keep map[string][]uint64, opts GCOptions) (int, error) {
	if err := checkName("app", app); err != nil {
		return 0, fmt.Errorf("snapshot: gc: %w", err)
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kept := map[ckpt]bool{}
	for task, ns := range keep {
		for _, n := range ns {
			kept[ckpt{task, n}] = true
		}
	}

	// Group the per-checkpoint objects by checkpoint.
	objs, err := store.List(ctx, app+"/tasks/")
	if err != nil {
		return 0, fmt.Errorf("snapshot: gc of %s: %w", app, err)
	}
	type group struct {
		keys     []string
		newest   time.Time
		manifest string // its key, if present
	}
	groups := map[ckpt]*group{}
	for _, o := range objs {
		task, n, name, ok := checkpointKey(app, o.Key)
		if !ok {
			continue // not ours: leave it alone
		}
		c := ckpt{task, n}
		g := groups[c]
		if g == nil {
			g = &group{}
			groups[c] = g
		}
		g.keys = append(g.keys, o.Key)
		if o.Modified.After(g.newest) {
			g.newest = o.Modified
		}
		if name == manifestName {
			g.manifest = o.Key
		}
	}

	// Decide, and collect what the remaining manifests reference.
	cutoff := now().Add(-grace)
	referenced := map[string]bool{}
	var doomed []ckpt
	for c, g := range groups {
		if !kept[c] && g.newest.Before(cutoff) {
			doomed = append(doomed, c)
			continue
		}
		if g.manifest == "" {
			continue
		}
		m, err := ReadManifest(ctx, store, g.manifest)
		if err != nil {
			return 0, fmt.Errorf("snapshot: gc of %s deleted nothing: cannot tell what remaining snapshot %s needs: %w", app, g.manifest, err)
		}
		for _, f := range m.Files {
			referenced[f.Key] = true
		}
	}
	sort.Slice(doomed, func(i, j int) bool {
		if doomed[i].task != doomed[j].task {
			return doomed[i].task < doomed[j].task
		}
		return doomed[i].n < doomed[j].n
	})

	deleted := 0
	del := func(keys []string) error {
		if len(keys) == 0 {
			return nil
		}
		if err := store.Delete(ctx, keys...); err != nil {
			return fmt.Errorf("snapshot: gc of %s: %w", app, err)
		}
		deleted += len(keys)
		return nil
	}
	// Manifests first: a crash part way leaves incomplete checkpoints, which the
	// next GC deletes, never a complete-looking snapshot with files missing.
	var manifests, rest []string
	for _, c := range doomed {
		g := groups[c]
		for _, k := range g.keys {
			switch {
			case referenced[k]:
			case k == g.manifest:
				manifests = append(manifests, k)
			default:
				rest = append(rest, k)
			}
		}
		log.Info("snapshot gc: deleting checkpoint", "app", app, "task", c.task, "checkpoint", c.n,
			"complete", g.manifest != "", "objects", len(g.keys))
	}
	if err := del(manifests); err != nil {
		return deleted, err
	}
	if err := del(rest); err != nil {
		return deleted, err
	}

	// SSTs no remaining manifest references.
	ssts, err := store.List(ctx, app+"/sst/")
	if err != nil {
		return deleted, fmt.Errorf("snapshot: gc of %s: %w", app, err)
	}
	var unused []string
	var unusedBytes int64
	for _, o := range ssts {
		if !isSSTKey(app, o.Key) || referenced[o.Key] || !o.Modified.Before(cutoff) {
			continue
		}
		unused = append(unused, o.Key)
		unusedBytes += o.Size
	}
	if len(unused) > 0 {
		log.Info("snapshot gc: deleting unreferenced SSTs", "app", app, "objects", len(unused), "bytes", unusedBytes)
	}
	if err := del(unused); err != nil {
		return deleted, err
	}
	return deleted, nil
}

type ckpt struct {
	task string
	n    uint64
}

// isSSTKey reports whether key has the shape of SSTKey(app, …).
func isSSTKey(app, key string) bool {
	sum, ok := strings.CutPrefix(key, app+"/sst/")
	if !ok {
		return false
	}
	sum, ok = strings.CutSuffix(sum, ".sst")
	if !ok || len(sum) != 64 {
		return false
	}
	_, err := hex.DecodeString(sum)
	return err == nil
}
