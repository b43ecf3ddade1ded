package snapshot

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/linxGnu/grocksdb"
)

// rocksDB is a real RocksDB instance (RocksDB 7.8.3 through grocksdb), to take
// real checkpoints of.
type rocksDB struct {
	t    *testing.T
	db   *grocksdb.DB
	opts *grocksdb.Options
	wo   *grocksdb.WriteOptions
	ro   *grocksdb.ReadOptions
}

func openRocks(t *testing.T, dir string) *rocksDB {
	t.Helper()
	opts := grocksdb.NewDefaultOptions()
	opts.SetCreateIfMissing(true)
	db, err := grocksdb.OpenDb(opts, dir)
	if err != nil {
		opts.Destroy()
		t.Fatalf("open RocksDB in %s: %v", dir, err)
	}
	r := &rocksDB{t: t, db: db, opts: opts, wo: grocksdb.NewDefaultWriteOptions(), ro: grocksdb.NewDefaultReadOptions()}
	t.Cleanup(r.close)
	return r
}

func (r *rocksDB) close() {
	if r.db == nil {
		return
	}
	r.db.Close()
	r.opts.Destroy()
	r.wo.Destroy()
	r.ro.Destroy()
	r.db = nil
}

func rocksKey(i int) []byte   { return []byte(fmt.Sprintf("key-%06d", i)) }
func rocksValue(i int) []byte { return []byte(fmt.Sprintf("value-%d-%s", i, randBytes(uint64(i), 40))) }

// putRange writes keys [from, to) and flushes them into a new SST.
func (r *rocksDB) putRange(from, to int) {
	r.t.Helper()
	for i := from; i < to; i++ {
		if err := r.db.Put(r.wo, rocksKey(i), rocksValue(i)); err != nil {
			r.t.Fatal(err)
		}
	}
	fo := grocksdb.NewDefaultFlushOptions()
	defer fo.Destroy()
	if err := r.db.Flush(fo); err != nil {
		r.t.Fatal(err)
	}
}

// checkpoint takes a RocksDB checkpoint (hard links) into a new directory.
func (r *rocksDB) checkpoint() string {
	r.t.Helper()
	dir := filepath.Join(r.t.TempDir(), "checkpoint")
	cp, err := r.db.NewCheckpoint()
	if err != nil {
		r.t.Fatal(err)
	}
	defer cp.Destroy()
	if err := cp.CreateCheckpoint(dir, 0); err != nil {
		r.t.Fatal(err)
	}
	return dir
}

// expectKeys checks the instance holds exactly keys [0, n) with their values.
func (r *rocksDB) expectKeys(n int) {
	r.t.Helper()
	for _, i := range []int{0, n / 2, n - 1} {
		s, err := r.db.Get(r.ro, rocksKey(i))
		if err != nil {
			r.t.Fatal(err)
		}
		if !s.Exists() || string(s.Data()) != string(rocksValue(i)) {
			r.t.Errorf("key %d: %q, want its value", i, s.Data())
		}
		s.Free()
	}
	it := r.db.NewIterator(r.ro)
	defer it.Close()
	count := 0
	for it.SeekToFirst(); it.Valid(); it.Next() {
		count++
	}
	if count != n {
		r.t.Errorf("restored instance has %d keys, want %d", count, n)
	}
}

func ssts(files []FileEntry) []string {
	var out []string
	for _, f := range files {
		if isSST(f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// testRealRocksDB uploads checkpoints of a real RocksDB instance as it grows and
// compacts, restores them, and opens the restored directories with RocksDB.
func testRealRocksDB(t *testing.T, s Store) {
	ctx := testContext(t)
	db := openRocks(t, filepath.Join(t.TempDir(), "db"))
	u := NewUploader(s, "app", nil)

	db.putRange(0, 1000)
	m1, ref1, st1 := upload(t, u, "0_7", 1, db.checkpoint())
	if len(ssts(m1.Files)) != 1 || st1.NewFiles != st1.Files {
		t.Fatalf("checkpoint 1: SSTs %q, stats %+v; want one SST, everything new", ssts(m1.Files), st1)
	}

	db.putRange(500, 2000) // overlaps the first SST, so compaction must rewrite it
	m2, ref2, st2 := upload(t, u, "0_7", 2, db.checkpoint())
	shared := ssts(m1.Files)[0]
	if got := ssts(m2.Files); len(got) != 2 || !slices.Contains(got, shared) {
		t.Fatalf("checkpoint 2 SSTs %q, want checkpoint 1's %s and one new", got, shared)
	}
	oldSST := fileEntry(t, m1, shared)
	if st2.NewFiles != st2.Files-1 || st2.NewBytes != st2.Bytes-oldSST.Size || st2.HashedFiles != st2.Files-1 {
		t.Errorf("checkpoint 2 stats %+v: want every file but %s (%d bytes) put and hashed", st2, shared, oldSST.Size)
	}

	db.db.CompactRange(grocksdb.Range{})
	m3, ref3, st3 := upload(t, u, "0_7", 3, db.checkpoint())
	if slices.Contains(ssts(m3.Files), shared) {
		t.Fatalf("after a full compaction checkpoint 3 still has %s: %q", shared, ssts(m3.Files))
	}
	t.Logf("checkpoint 1: %d files, checkpoint 2: %d files (%d new), checkpoint 3 after compaction: %d files (%d new, SSTs %q)",
		st1.Files, st2.Files, st2.NewFiles, st3.Files, st3.NewFiles, ssts(m3.Files))

	restore := func(ref string, keys int) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "restored")
		if _, err := Download(ctx, s, ref, dir); err != nil {
			t.Fatalf("download %s: %v", ref, err)
		}
		r := openRocks(t, dir)
		r.expectKeys(keys)
		r.close()
	}
	restore(ref1, 1000)
	restore(ref2, 2000)
	restore(ref3, 2000)

	// Keep checkpoint 3 only: 1 and 2 and their SSTs go; 3 still restores.
	c := &clock{}
	c.advance(time.Hour)
	if _, err := GC(ctx, s, "app", map[string][]uint64{"0_7": {3}}, GCOptions{Now: c.now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, oldSST.Key); err == nil {
		t.Errorf("SST %s of collected checkpoints is still stored", shared)
	}
	if _, err := ReadManifest(ctx, s, ref2); err == nil {
		t.Errorf("checkpoint 2's manifest is still stored")
	}
	restore(ref3, 2000)
}
