package rocks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/linxGnu/grocksdb"
)

// FileKind says whether a checkpoint file can be shared between snapshots.
type FileKind int

const (
	// FileSST is an immutable table file (*.sst). RocksDB never rewrites one and
	// never reuses a file number within one lineage (an instance, its checkpoints, and
	// instances opened from its latest checkpoint), so within a lineage name and size
	// identify the content: a snapshot store may upload it once and refer to it from
	// every later checkpoint that lists it. Restoring a checkpoint OTHER than the
	// latest forks the lineage: the restored instance allocates file numbers from that
	// checkpoint's MANIFEST onwards, which the abandoned later checkpoints may have
	// used for different files.
	FileSST FileKind = iota + 1
	// FileMetadata is anything else: MANIFEST-*, OPTIONS-*, CURRENT, and *.log (a WAL
	// copied at its size at checkpoint time, when writes raced the flush). Different
	// in every checkpoint: copy it every time.
	FileMetadata
)

func (k FileKind) String() string {
	switch k {
	case FileSST:
		return "sst"
	case FileMetadata:
		return "metadata"
	}
	return fmt.Sprintf("FileKind(%d)", int(k))
}

// CheckpointFile is one file of a checkpoint directory.
type CheckpointFile struct {
	Name string // base name in the directory
	Size int64
	Kind FileKind
}

// CheckpointInfo describes a checkpoint written by DB.Checkpoint.
type CheckpointInfo struct {
	Dir   string
	Files []CheckpointFile // every file in Dir, sorted by name
	// Offsets are the changelog offsets recorded in the checkpoint's own meta column
	// family: those of exactly the state it holds (read back from Dir).
	Offsets map[StorePartition]int64
}

// Checkpoint writes an openable copy of the instance to dir, which must not exist yet
// (its parent must), hard-linking SST files when dir is on the same file system.
// It is RocksDB's checkpoint with log_size_for_flush = 0: every memtable is flushed
// first, so the copy holds every write made before the call; writes racing it may
// land in a WAL file that is copied too (listed as FileMetadata). The changelog
// offsets are then read from the copy with a read-only open (ReadCheckpointOffsets),
// which also checks that every file the copy's MANIFEST names is there. If anything
// fails after dir was created, dir is removed.
func (d *DB) Checkpoint(dir string) (CheckpointInfo, error) {
	wrap := func(err error) error { return fmt.Errorf("rocks: checkpoint of %s to %s: %w", d.dir, dir, err) }
	if err := d.createCheckpoint(dir); err != nil {
		return CheckpointInfo{}, wrap(err)
	}
	info, err := describeCheckpoint(dir)
	if err != nil {
		os.RemoveAll(dir)
		return CheckpointInfo{}, wrap(err)
	}
	return info, nil
}

func (d *DB) createCheckpoint(dir string) error {
	// Hold the meta family, not d.mu: Close waits for it, and creating a store
	// partition (which takes the pool's lock, then d.mu) need not wait for a flush.
	if err := d.meta.acquire(); err != nil {
		return err
	}
	defer d.meta.release()
	if _, err := os.Lstat(dir); err == nil {
		return errors.New("the directory exists")
	}
	cp, err := d.rdb.NewCheckpoint()
	if err != nil {
		return err
	}
	defer cp.Destroy()
	return cp.CreateCheckpoint(dir, 0)
}

func describeCheckpoint(dir string) (CheckpointInfo, error) {
	offsets, err := readCheckpoint(dir, false)
	if err != nil {
		return CheckpointInfo{}, err
	}
	files, err := CheckpointFiles(dir)
	if err != nil {
		return CheckpointInfo{}, err
	}
	return CheckpointInfo{Dir: dir, Files: files, Offsets: offsets}, nil
}

// CheckpointFiles lists the files of a checkpoint directory (for example a downloaded
// one) with their sizes and kinds, sorted by name. A subdirectory is an error: a
// checkpoint has none.
func CheckpointFiles(dir string) ([]CheckpointFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rocks: list checkpoint files: %w", err)
	}
	files := make([]CheckpointFile, 0, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("rocks: list checkpoint files in %s: %s is not a regular file", dir, e.Name())
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("rocks: list checkpoint files: %w", err)
		}
		kind := FileMetadata
		if strings.HasSuffix(e.Name(), ".sst") {
			kind = FileSST
		}
		files = append(files, CheckpointFile{Name: e.Name(), Size: fi.Size(), Kind: kind})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// ReadCheckpointOffsets opens the instance or checkpoint in dir read-only (no writer
// should have it open) with every column family, and returns the changelog
// offsets recorded in its meta column family. The open fails if a file the MANIFEST
// names is missing or has another size, so this is also a cheap check of a
// downloaded snapshot; VerifyCheckpoint reads every block too.
func ReadCheckpointOffsets(dir string) (map[StorePartition]int64, error) {
	offsets, err := readCheckpoint(dir, false)
	if err != nil {
		return nil, fmt.Errorf("rocks: read checkpoint offsets in %s: %w", dir, err)
	}
	return offsets, nil
}

// VerifyCheckpoint checks that the instance or checkpoint in dir opens cleanly
// read-only with every column family (paranoid checks on) and that every entry of
// every column family reads back with its block checksums verified, and that its
// meta column family is well formed. It reads the whole state once, outside the
// block cache.
func VerifyCheckpoint(dir string) error {
	if _, err := readCheckpoint(dir, true); err != nil {
		return fmt.Errorf("rocks: verify checkpoint %s: %w", dir, err)
	}
	return nil
}

// readCheckpoint opens dir read-only with all column families, reads the offsets in
// meta and, if scan, iterates every column family with checksums verified.
func readCheckpoint(dir string, scan bool) (map[StorePartition]int64, error) {
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err != nil {
		return nil, fmt.Errorf("not a RocksDB directory: %w", err)
	}
	// Own small cache: reading a checkpoint must not need a Pool, and its index and
	// filter blocks go through the cache instead of table-reader memory.
	cache := grocksdb.NewLRUCache(4 << 20)
	defer cache.Destroy()
	bbto := grocksdb.NewDefaultBlockBasedTableOptions()
	defer bbto.Destroy()
	bbto.SetBlockCache(cache)
	bbto.SetCacheIndexAndFilterBlocks(true)
	opts := grocksdb.NewDefaultOptions()
	defer opts.Destroy()
	opts.SetBlockBasedTableFactory(bbto)
	opts.SetParanoidChecks(true)
	opts.SetSkipStatsUpdateOnDBOpen(true)

	names, err := grocksdb.ListColumnFamilies(opts, dir)
	if err != nil {
		return nil, fmt.Errorf("list column families: %w", err)
	}
	metaAt := -1
	for i, n := range names {
		if n == metaCF {
			metaAt = i
		}
	}
	if metaAt < 0 {
		return nil, fmt.Errorf("no %q column family among %q", metaCF, names)
	}
	cfOpts := make([]*grocksdb.Options, len(names))
	for i := range cfOpts {
		cfOpts[i] = opts
	}
	rdb, handles, err := grocksdb.OpenDbForReadOnlyColumnFamilies(opts, dir, names, cfOpts, false)
	if err != nil {
		return nil, fmt.Errorf("open read-only: %w", err)
	}
	defer func() {
		for _, h := range handles {
			h.Destroy() // before Close, which asserts that no handle is left
		}
		rdb.Close()
	}()
	ro := grocksdb.NewDefaultReadOptions()
	defer ro.Destroy()
	ro.SetVerifyChecksums(true)
	ro.SetFillCache(false)

	offsets := map[StorePartition]int64{}
	err = iterate(rdb, ro, handles[metaAt], func(k, v []byte) error {
		sp, ok := parseOffsetKey(k)
		if !ok {
			return nil // not an offset: nothing else is in meta today
		}
		if len(v) != 8 {
			return fmt.Errorf("%v: changelog offset has %d bytes, want 8", sp, len(v))
		}
		offsets[sp] = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", metaCF, err)
	}
	if scan {
		for i, h := range handles {
			if i == metaAt {
				continue
			}
			if err := iterate(rdb, ro, h, func(k, v []byte) error { return nil }); err != nil {
				return nil, fmt.Errorf("read column family %q: %w", names[i], err)
			}
		}
	}
	return offsets, nil
}

func iterate(rdb *grocksdb.DB, ro *grocksdb.ReadOptions, h *grocksdb.ColumnFamilyHandle, fn func(k, v []byte) error) error {
	it := rdb.NewIteratorCF(ro, h)
	defer it.Close()
	for it.SeekToFirst(); it.Valid(); it.Next() {
		if err := fn(it.Key().Data(), it.Value().Data()); err != nil {
			return err
		}
	}
	return it.Err()
}
