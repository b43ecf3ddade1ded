package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// DefaultGrace is the default grace period of GC and Uploader: GC deletes no
// object younger than this, which covers uploads in flight. See Uploader.Grace.
const DefaultGrace = 10 * time.Minute

// Defaults for the Uploader's fields left zero.
const (
	DefaultParallelism = 4 // objects one upload or download transfers at once
	DefaultQueueSize   = 8 // uploads Go accepts before answering ErrQueueFull
	DefaultWorkers     = 2 // uploads Go runs at once
)

// UploadStats describe one Upload.
type UploadStats struct {
	Files int   // files in the snapshot
	Bytes int64 // their total size
	// NewFiles and NewBytes count what this upload put in the store: SSTs the
	// store did not have yet, and the checkpoint's other (small) files. The
	// manifest is not counted.
	NewFiles int
	NewBytes int64
	// HashedFiles and HashedBytes count the files read to compute their SHA-256;
	// SSTs hashed by an earlier upload of the same task are not read again.
	HashedFiles int
	HashedBytes int64
	Duration    time.Duration
}

// Uploader uploads a process's task checkpoints to one store, incrementally. It
// remembers, per task, the SST files of the task's last uploaded snapshot (with
// their hashes, by inode) and, for the whole process, the SSTs it put recently, so
// each upload reads and puts only the SSTs it has not seen. An SST it has not seen
// is looked up in the store first (Stat), so a restarted process or another
// replica does not put it again.
//
// Configure the exported fields before the first Upload or Go; an Uploader is safe
// for concurrent use after that.
//
// # Safety with a concurrent GC
//
// An upload refers to an SST without putting it only when GC cannot have deleted
// it: the SST is in the task's previous manifest and that manifest was written less
// than Grace/2 ago (GC keeps every manifest younger than Grace, and what it
// references), or this Uploader put the SST less than Grace/2 ago (GC keeps objects
// younger than Grace), or Stat just found it in the store. If an upload takes longer
// than Grace/2, every SST is checked again before the manifest is written and put
// again if missing. What is left is the moment between a Stat and the manifest
// write, during which a GC that has already decided to delete an old unreferenced
// SST may do so; the engine makes that moot by keeping (GC's keep) each task's
// latest complete checkpoint, which references every older SST the next one can
// share. Grace must be GC's grace period (both default to DefaultGrace).
type Uploader struct {
	// Parallelism bounds the objects one upload hashes, checks or puts at once
	// (default DefaultParallelism).
	Parallelism int
	// Grace is the grace period GC runs with (default DefaultGrace).
	Grace time.Duration
	// QueueSize and Workers size Go's queue (defaults DefaultQueueSize and
	// DefaultWorkers).
	QueueSize, Workers int

	store Store
	app   string
	log   *slog.Logger
	now   func() time.Time // time.Now; tests move it

	mu     sync.Mutex
	tasks  map[string]*taskState
	recent map[string]time.Time // SST key → when this Uploader put it

	qmu     sync.Mutex
	queue   chan queued
	closed  bool
	workers sync.WaitGroup
}

// taskState is what the Uploader remembers of a task's last upload; replaced, never
// modified, so a pointer to it can be read without the lock.
type taskState struct {
	checkpoint uint64
	written    time.Time // when its manifest was put
	ssts       map[string]bool
	hashes     map[fileIdentity]string // SST files by identity → SHA-256 hex
}

// NewUploader returns an Uploader of app's snapshots to store. log may be nil.
func NewUploader(store Store, app string, log *slog.Logger) *Uploader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Uploader{
		store:  store,
		app:    app,
		log:    log,
		now:    time.Now,
		tasks:  map[string]*taskState{},
		recent: map[string]time.Time{},
	}
}

func (u *Uploader) grace() time.Duration {
	if u.Grace > 0 {
		return u.Grace
	}
	return DefaultGrace
}

func (u *Uploader) parallelism() int {
	if u.Parallelism > 0 {
		return u.Parallelism
	}
	return DefaultParallelism
}

// Forget drops what the Uploader remembers of task, so its next upload checks
// every SST in the store. Call it when the task's local state is replaced
// (restored from a snapshot, or dropped); it is never needed for correctness when
// checkpoints follow one another on the same local state.
func (u *Uploader) Forget(task string) {
	u.mu.Lock()
	delete(u.tasks, task)
	u.mu.Unlock()
}

// localFile is one file of the checkpoint directory being uploaded.
type localFile struct {
	name, path string
	info       fs.FileInfo
}

// Upload stores the RocksDB checkpoint in dir as snapshot checkpoint of task, with
// the changelog and source offsets it covers ("topic/partition" → next offset),
// and returns its manifest and the manifest's key (the reference Download takes).
//
// SST files (*.sst) go to content-addressed keys (SSTKey), each put only if the
// store does not have it; the other files go under the checkpoint's own prefix
// (CheckpointPrefix); the manifest is put last. dir must be flat (RocksDB
// checkpoints are) and must not change during the upload. Upload runs in the
// caller's goroutine; see Go for a background queue.
func (u *Uploader) Upload(ctx context.Context, task string, checkpoint uint64, dir string, changelog, source map[string]int64) (Manifest, string, UploadStats, error) {
	start := u.now()
	var stats UploadStats
	fail := func(err error) (Manifest, string, UploadStats, error) {
		stats.Duration = u.now().Sub(start)
		return Manifest{}, "", stats, fmt.Errorf("snapshot: upload of task %s checkpoint %d from %s: %w", task, checkpoint, dir, err)
	}
	if err := checkName("app", u.app); err != nil {
		return fail(err)
	}
	if err := checkName("task", task); err != nil {
		return fail(err)
	}
	files, err := scanDir(dir)
	if err != nil {
		return fail(err)
	}

	u.mu.Lock()
	prev := u.tasks[task]
	u.mu.Unlock()
	grace := u.grace()
	trustPrev := prev != nil && prev.checkpoint < checkpoint && start.Sub(prev.written) < grace/2

	entries := make([]FileEntry, len(files))
	var smu sync.Mutex // guards stats and hashes
	hashes := map[fileIdentity]string{}
	err = forEach(ctx, len(files), u.parallelism(), func(ctx context.Context, i int) error {
		f := files[i]
		sum, hashed, err := u.hashOf(f, prev, hashes, &smu)
		if err != nil {
			return err
		}
		e := FileEntry{Name: f.name, Size: f.info.Size(), SHA256: sum}
		need := true
		if isSST(f.name) {
			e.Key = SSTKey(u.app, sum)
			if need, err = u.needsPut(ctx, e, trustPrev, prev); err != nil {
				return err
			}
		} else {
			e.Key = CheckpointPrefix(u.app, task, checkpoint) + f.name
		}
		if need {
			if err := u.put(ctx, f, e); err != nil {
				return err
			}
		}
		entries[i] = e
		smu.Lock()
		if hashed {
			stats.HashedFiles++
			stats.HashedBytes += e.Size
		}
		if need {
			stats.NewFiles++
			stats.NewBytes += e.Size
		}
		smu.Unlock()
		return nil
	})
	if err != nil {
		return fail(err)
	}

	// A slow upload may have outlived GC's grace period for objects it relies on,
	// its own early puts included: check them all again before the manifest.
	if u.now().Sub(start) > grace/2 {
		err := forEach(ctx, len(files), u.parallelism(), func(ctx context.Context, i int) error {
			e := entries[i]
			need, err := u.needsPut(ctx, e, false, nil)
			if err != nil || !need {
				return err
			}
			u.log.Warn("snapshot: an object vanished from the store during a slow upload; putting it again",
				"task", task, "checkpoint", checkpoint, "file", e.Name, "key", e.Key)
			if err := u.put(ctx, files[i], e); err != nil {
				return err
			}
			smu.Lock()
			stats.NewFiles++
			stats.NewBytes += e.Size
			smu.Unlock()
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}

	m := Manifest{
		Format:           ManifestFormat,
		App:              u.app,
		Task:             task,
		Checkpoint:       checkpoint,
		Created:          u.now().UTC(),
		Files:            entries,
		ChangelogOffsets: copyOffsets(changelog),
		SourceOffsets:    copyOffsets(source),
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fail(err)
	}
	ref := ManifestKey(u.app, task, checkpoint)
	if err := u.store.Put(ctx, ref, bytes.NewReader(data), int64(len(data))); err != nil {
		return fail(err)
	}
	written := u.now()

	ssts := map[string]bool{}
	for _, e := range entries {
		stats.Files++
		stats.Bytes += e.Size
		if isSST(e.Name) {
			ssts[e.Key] = true
		}
	}
	u.mu.Lock()
	if cur := u.tasks[task]; cur == nil || cur.checkpoint < checkpoint {
		u.tasks[task] = &taskState{checkpoint: checkpoint, written: written, ssts: ssts, hashes: hashes}
	}
	for key, t := range u.recent {
		if written.Sub(t) >= grace/2 {
			delete(u.recent, key)
		}
	}
	u.mu.Unlock()

	stats.Duration = u.now().Sub(start)
	u.log.Debug("snapshot uploaded", "task", task, "checkpoint", checkpoint, "ref", ref,
		"files", stats.Files, "bytes", stats.Bytes, "new_files", stats.NewFiles, "new_bytes", stats.NewBytes,
		"hashed_bytes", stats.HashedBytes, "duration", stats.Duration)
	return m, ref, stats, nil
}

// scanDir lists the files of a checkpoint directory, sorted by name.
func scanDir(dir string) ([]localFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := make([]localFile, 0, len(des))
	for _, de := range des {
		name := de.Name()
		p := filepath.Join(dir, name)
		if !de.Type().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file (a checkpoint directory holds only files)", p)
		}
		if err := checkFileName(name); err != nil {
			return nil, err
		}
		if name == manifestName {
			return nil, fmt.Errorf("%s: a checkpoint file may not be named %s", p, manifestName)
		}
		info, err := de.Info()
		if err != nil {
			return nil, err
		}
		files = append(files, localFile{name: name, path: p, info: info})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, nil
}

// hashOf returns f's SHA-256, from the task's previous hashes for an unchanged
// SST, else by reading it (hashed true). SST hashes are recorded in hashes.
func (u *Uploader) hashOf(f localFile, prev *taskState, hashes map[fileIdentity]string, mu *sync.Mutex) (sum string, hashed bool, err error) {
	id, idOK := identify(f.info)
	idOK = idOK && isSST(f.name)
	if idOK && prev != nil {
		if sum, ok := prev.hashes[id]; ok {
			mu.Lock()
			hashes[id] = sum
			mu.Unlock()
			return sum, false, nil
		}
	}
	sum, err = hashFile(f.path, f.info.Size())
	if err != nil {
		return "", false, err
	}
	if idOK {
		mu.Lock()
		hashes[id] = sum
		mu.Unlock()
	}
	return sum, true, nil
}

// hashFile returns the hex SHA-256 of the file at path, which must hold size bytes.
func hashFile(path string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	if n != size {
		return "", fmt.Errorf("%s changed during the upload: %d bytes, was %d", path, n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// needsPut decides whether e must be put (see Uploader's doc): whether the store
// may lack it, as far as the Uploader's memory goes, and Stat says it does.
func (u *Uploader) needsPut(ctx context.Context, e FileEntry, trustPrev bool, prev *taskState) (bool, error) {
	if trustPrev && prev.ssts[e.Key] {
		return false, nil
	}
	u.mu.Lock()
	t, ok := u.recent[e.Key]
	u.mu.Unlock()
	if ok && u.now().Sub(t) < u.grace()/2 {
		return false, nil
	}
	info, err := u.store.Stat(ctx, e.Key)
	switch {
	case errors.Is(err, ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	case info.Size != e.Size:
		u.log.Warn("snapshot: a stored object has the wrong size; putting it again",
			"key", e.Key, "stored_size", info.Size, "size", e.Size)
		return true, nil
	}
	return false, nil
}

// put uploads the local file f as e.Key.
func (u *Uploader) put(ctx context.Context, f localFile, e FileEntry) error {
	r, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := u.store.Put(ctx, e.Key, io.NewSectionReader(r, 0, e.Size), e.Size); err != nil {
		return err
	}
	if isSST(e.Name) {
		now := u.now()
		u.mu.Lock()
		u.recent[e.Key] = now
		u.mu.Unlock()
	}
	return nil
}

func copyOffsets(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// forEach runs fn for 0..n-1 on at most parallelism goroutines; the first error
// cancels the others' context and is returned.
func forEach(ctx context.Context, n, parallelism int, fn func(ctx context.Context, i int) error) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, max(parallelism, 1))
loop:
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if first == nil {
		first = parent.Err()
	}
	return first
}
