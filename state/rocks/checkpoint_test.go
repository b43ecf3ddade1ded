package rocks

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies the regular files of src into a new directory dst (a real copy, as
// a download from a snapshot store would make, not hard links).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func fileHash(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// contents returns every entry of every store partition of db, plus the offsets.
func contents(t *testing.T, db *DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, sp := range db.Stores() {
		out[sp.String()] = all(t, store(t, db, sp.Store, sp.Partition))
		off, ok, err := db.ChangelogOffset(sp.Store, sp.Partition)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out["offset of "+sp.String()] = []string{fmt.Sprint(off)}
		}
	}
	return out
}

func sameContents(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !equal(v, w) {
			return false
		}
	}
	return true
}

// TestCheckpointInstallOpen takes a checkpoint of an instance, copies it into
// another pool's staging directory (as a download would), verifies it, installs it
// over an existing instance of that pool and opens it: same contents, same
// changelog offsets, and the restored instance keeps working.
func TestCheckpointInstallOpen(t *testing.T) {
	src := openPool(t, t.TempDir(), testMem)
	db := instance(t, src, "0_1")
	counts, sums := store(t, db, "counts", 1), store(t, db, "sums", 1)
	for i := 0; i < 1000; i++ {
		mustPut(t, counts, fmt.Sprintf("c%04d", i), fmt.Sprint(i))
		mustPut(t, sums, fmt.Sprintf("s%04d", i), fmt.Sprint(2*i))
	}
	if err := db.Flush(); err != nil { // some of the state in SST files before the checkpoint
		t.Fatal(err)
	}
	for i := 0; i < 1000; i += 3 {
		if err := counts.Delete(fmt.Appendf(nil, "c%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, sums, "late", "in the memtable")
	offsets := map[StorePartition]int64{{"counts", 1}: 1667, {"sums", 1}: 1001}
	if err := db.SetChangelogOffsets(offsets); err != nil {
		t.Fatal(err)
	}
	want := contents(t, db)

	cpDir := filepath.Join(src.StagingDir(), "cp")
	info, err := db.Checkpoint(cpDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Checkpoint(cpDir); err == nil {
		t.Fatal("Checkpoint into an existing dir succeeded")
	}
	mustPut(t, counts, "after", "x") // not in the copy
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 1}: 9999}); err != nil {
		t.Fatal(err)
	}

	if fmt.Sprint(info.Offsets) != fmt.Sprint(offsets) {
		t.Fatalf("checkpoint offsets = %v, want %v", info.Offsets, offsets)
	}
	var ssts int
	kinds := map[string]FileKind{}
	for _, f := range info.Files {
		kinds[f.Name] = f.Kind
		fi, err := os.Stat(filepath.Join(cpDir, f.Name))
		if err != nil || fi.Size() != f.Size {
			t.Fatalf("file %+v: on disk %v, %v", f, fi, err)
		}
		if f.Kind == FileSST {
			ssts++
		}
	}
	if kinds["CURRENT"] != FileMetadata || ssts < 3 {
		t.Fatalf("checkpoint files %+v: want CURRENT as metadata and an SST per column family", info.Files)
	}
	t.Logf("checkpoint files: %+v", info.Files)

	// Download into the other pool's staging directory, check it, install it.
	dst := openPool(t, t.TempDir(), testMem)
	old := instance(t, dst, "0_1")
	mustPut(t, store(t, old, "stale", 0), "k", "v")
	dl := filepath.Join(dst.StagingDir(), "download")
	copyDir(t, cpDir, dl)
	if err := VerifyCheckpoint(dl); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadCheckpointOffsets(dl); err != nil || fmt.Sprint(got) != fmt.Sprint(offsets) {
		t.Fatalf("ReadCheckpointOffsets = %v, %v; want %v", got, err, offsets)
	}
	if err := dst.Install("0_1", dl); !errors.Is(err, ErrInstanceOpen) {
		t.Fatalf("Install over an open instance: %v, want ErrInstanceOpen", err)
	}
	old.Close()
	if err := dst.Install("0_1", dl); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dl); !os.IsNotExist(err) {
		t.Fatalf("the installed directory is still in staging: %v", err)
	}
	restored := instance(t, dst, "0_1")
	if got := contents(t, restored); !sameContents(got, want) {
		t.Fatalf("restored instance differs:\n got %v\nwant %v", got, want)
	}
	if got := fmt.Sprint(restored.Stores()); got != fmt.Sprint([]StorePartition{{"counts", 1}, {"sums", 1}}) {
		t.Fatalf("restored stores = %s (the replaced instance's store must be gone)", got)
	}
	if n := dst.ColumnFamilies(); n != 3 {
		t.Fatalf("N after opening the restored instance = %d, want 3", n)
	}
	// It is an ordinary instance: it takes writes and checkpoints, and the original
	// is untouched.
	rc := store(t, restored, "counts", 1)
	mustPut(t, rc, "c0001", "changed")
	wantGet(t, counts, "c0001", "1")
	if _, err := restored.Checkpoint(filepath.Join(dst.StagingDir(), "again")); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalCheckpoints takes two checkpoints with writes in between: the SST
// files they share (by name and size) have the same contents, so a snapshot store
// uploads only the new ones.
func TestIncrementalCheckpoints(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db := instance(t, p, "3_0")
	a, b := store(t, db, "a", 0), store(t, db, "b", 0)
	for i := 0; i < 5000; i++ {
		mustPut(t, a, fmt.Sprintf("a%05d", i), strings.Repeat("x", 50))
		mustPut(t, b, fmt.Sprintf("b%05d", i), strings.Repeat("y", 50))
	}
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"a", 0}: 5000, {"b", 0}: 5000}); err != nil {
		t.Fatal(err)
	}
	c1, err := db.Checkpoint(filepath.Join(p.StagingDir(), "c1"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 5000; i < 6000; i++ { // only a changes
		mustPut(t, a, fmt.Sprintf("a%05d", i), strings.Repeat("z", 50))
	}
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"a", 0}: 6000}); err != nil {
		t.Fatal(err)
	}
	c2, err := db.Checkpoint(filepath.Join(p.StagingDir(), "c2"))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Offsets[StorePartition{"a", 0}] != 6000 || c2.Offsets[StorePartition{"b", 0}] != 5000 {
		t.Fatalf("second checkpoint's offsets = %v", c2.Offsets)
	}

	first := map[string]CheckpointFile{}
	for _, f := range c1.Files {
		first[f.Name] = f
	}
	var shared, added []string
	var sharedBytes, addedBytes int64
	for _, f := range c2.Files {
		if f.Kind != FileSST {
			continue
		}
		g, ok := first[f.Name]
		if !ok {
			added = append(added, f.Name)
			addedBytes += f.Size
			continue
		}
		if g.Size != f.Size {
			t.Fatalf("SST %s has size %d in the first checkpoint, %d in the second", f.Name, g.Size, f.Size)
		}
		if h1, h2 := fileHash(t, filepath.Join(c1.Dir, f.Name)), fileHash(t, filepath.Join(c2.Dir, f.Name)); h1 != h2 {
			t.Fatalf("SST %s (same name and size) differs between checkpoints: %s vs %s", f.Name, h1, h2)
		}
		shared = append(shared, f.Name)
		sharedBytes += f.Size
	}
	t.Logf("second checkpoint: %d SSTs shared with the first (%d B), %d new (%d B): %v new",
		len(shared), sharedBytes, len(added), addedBytes, added)
	if len(shared) < 2 || len(added) == 0 || addedBytes >= sharedBytes {
		t.Fatalf("shared %v, new %v: want b's and a's first files shared and a smaller new part", shared, added)
	}

	// Both restore to what they held.
	for _, c := range []CheckpointInfo{c1, c2} {
		if err := VerifyCheckpoint(c.Dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Install("c2", c2.Dir); err != nil {
		t.Fatal(err)
	}
	r := instance(t, p, "c2")
	wantGet(t, store(t, r, "a", 0), "a05999", strings.Repeat("z", 50))
	wantGet(t, store(t, r, "b", 0), "b04999", strings.Repeat("y", 50))
}

// TestCorruptCheckpointDetected damages copies of a checkpoint in the ways a broken
// download could and checks that ReadCheckpointOffsets and VerifyCheckpoint report
// it (VerifyCheckpoint alone reads every block, so only it must catch a flipped
// byte).
func TestCorruptCheckpointDetected(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db := instance(t, p, "0_0")
	s := store(t, db, "counts", 0)
	for i := 0; i < 20000; i++ {
		mustPut(t, s, fmt.Sprintf("key-%06d", i), strings.Repeat("v", 40))
	}
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 0}: 20000}); err != nil {
		t.Fatal(err)
	}
	info, err := db.Checkpoint(filepath.Join(t.TempDir(), "cp"))
	if err != nil {
		t.Fatal(err)
	}
	var biggest CheckpointFile
	var manifest string
	for _, f := range info.Files {
		if f.Kind == FileSST && f.Size > biggest.Size {
			biggest = f
		}
		if strings.HasPrefix(f.Name, "MANIFEST-") {
			manifest = f.Name
		}
	}
	if biggest.Size < 100_000 || manifest == "" {
		t.Fatalf("checkpoint files %+v: want a large SST and a MANIFEST", info.Files)
	}

	for _, c := range []struct {
		name        string
		damage      func(dir string) error
		offsetsFail bool // ReadCheckpointOffsets must fail too
	}{
		{"intact", func(string) error { return nil }, false},
		{"deleted SST", func(dir string) error { return os.Remove(filepath.Join(dir, biggest.Name)) }, true},
		{"truncated SST", func(dir string) error { return os.Truncate(filepath.Join(dir, biggest.Name), biggest.Size/2) }, true},
		{"SST cut by one byte", func(dir string) error { return os.Truncate(filepath.Join(dir, biggest.Name), biggest.Size-1) }, true},
		{"flipped byte in an SST", func(dir string) error {
			f, err := os.OpenFile(filepath.Join(dir, biggest.Name), os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, biggest.Size/3); err != nil {
				return err
			}
			b[0] ^= 0x55
			_, err = f.WriteAt(b, biggest.Size/3)
			return err
		}, false},
		{"deleted MANIFEST", func(dir string) error { return os.Remove(filepath.Join(dir, manifest)) }, true},
		{"deleted CURRENT", func(dir string) error { return os.Remove(filepath.Join(dir, "CURRENT")) }, true},
		{"empty directory", func(dir string) error {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.Remove(filepath.Join(dir, e.Name()))
			}
			return nil
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "copy")
			copyDir(t, info.Dir, dir)
			if err := c.damage(dir); err != nil {
				t.Fatal(err)
			}
			verr := VerifyCheckpoint(dir)
			offs, oerr := ReadCheckpointOffsets(dir)
			t.Logf("VerifyCheckpoint: %v; ReadCheckpointOffsets: %v", verr, oerr)
			if c.name == "intact" {
				if verr != nil || oerr != nil || offs[StorePartition{"counts", 0}] != 20000 {
					t.Fatalf("intact copy: %v, %v, %v", verr, oerr, offs)
				}
				return
			}
			if verr == nil {
				t.Fatal("VerifyCheckpoint accepted a damaged checkpoint")
			}
			if !strings.Contains(verr.Error(), dir) {
				t.Errorf("error %q does not name the directory", verr)
			}
			if c.offsetsFail && oerr == nil {
				t.Fatal("ReadCheckpointOffsets accepted a damaged checkpoint")
			}
		})
	}
}

func TestCheckpointOfClosedDB(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db := instance(t, p, "0_0")
	db.Close()
	dir := filepath.Join(t.TempDir(), "cp")
	if _, err := db.Checkpoint(dir); !errors.Is(err, ErrClosed) {
		t.Fatalf("Checkpoint of a closed DB: %v, want ErrClosed", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("failed checkpoint left %s: %v", dir, err)
	}
}

// TestCheckpointWhileChanging takes checkpoints while one goroutine writes and
// records offsets and another creates and drops store partitions of the same
// instance: every checkpoint verifies, and the store it holds agrees with its
// offset (data at or ahead of the offset, as after a crash).
func TestCheckpointWhileChanging(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db := instance(t, p, "0_0")
	s := store(t, db, "main", 0)
	stop := make(chan struct{})
	errs := make(chan error, 2)
	go func() { // writer: key n, then offset n
		for n := int64(1); ; n++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if err := s.Put(fmt.Appendf(nil, "k%08d", n), []byte("v")); err != nil {
				errs <- err
				return
			}
			if err := db.SetChangelogOffsets(map[StorePartition]int64{{"main", 0}: n}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // churn: create, write, drop
		for i := int32(0); ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			c, err := db.Store("churn", i%3)
			if err == nil {
				err = c.Put([]byte("k"), []byte("v"))
			}
			if err == nil && i%2 == 1 {
				err = db.DropStore("churn", i%3)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	base := t.TempDir()
	for i := 0; i < 10; i++ {
		info, err := db.Checkpoint(filepath.Join(base, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyCheckpoint(info.Dir); err != nil {
			t.Fatal(err)
		}
		off := info.Offsets[StorePartition{"main", 0}]
		cp := openCheckpoint(t, info.Dir)
		if off > 0 {
			wantGet(t, store(t, cp, "main", 0), fmt.Sprintf("k%08d", off), "v")
		}
		cp.Close()
	}
	close(stop)
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
