package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The same suite runs against the file store (TestFileStore) and MinIO (TestS3Store).

// testTimeout is a hang guard for one test, not an expectation.
const testTimeout = 5 * time.Minute

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func runSuite(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"PutGetListDelete", testPutGetListDelete},
		{"PutRejects", testPutRejects},
		{"UploadIncremental", testUploadIncremental},
		{"DownloadWatched", testDownloadWatched},
		{"UploadAfterRestart", testUploadAfterRestart},
		{"CorruptObject", testCorruptObject},
		{"MissingObject", testMissingObject},
		{"BadManifest", testBadManifest},
		{"GC", testGC},
		{"GCGrace", testGCGrace},
		{"GCCorruptKeptManifest", testGCCorruptKeptManifest},
		{"SlowUploadPutsVanishedSST", testSlowUploadPutsVanishedSST},
		{"SlowUploadChecksAgain", testSlowUploadChecksAgain},
		{"Background", testBackground},
		{"RealRocksDB", testRealRocksDB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func put(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(testContext(t), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, s Store, key string) []byte {
	t.Helper()
	r, err := s.Get(testContext(t), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

func listKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	objs, err := s.List(testContext(t), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	keys := []string{}
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func testPutGetListDelete(t *testing.T, s Store) {
	ctx := testContext(t)
	objects := map[string][]byte{
		"a/b/c":     []byte("abc"),
		"a/bc":      []byte("a-bc"),
		"a/b.d":     []byte("a-b.d"),
		"a/b/e/f":   randBytes(1, 300<<10),
		"z":         {},
		"a/x/y.sst": []byte("sst"),
	}
	for k, v := range objects {
		put(t, s, k, v)
	}
	for k, v := range objects {
		if got := get(t, s, k); !bytes.Equal(got, v) {
			t.Errorf("get %s: %d bytes, want %d", k, len(got), len(v))
		}
		info, err := s.Stat(ctx, k)
		if err != nil {
			t.Fatalf("stat %s: %v", k, err)
		}
		if info.Key != k || info.Size != int64(len(v)) || info.Modified.IsZero() {
			t.Errorf("stat %s = %+v, want size %d and a modification time", k, info, len(v))
		}
	}
	for prefix, want := range map[string][]string{
		"":         {"a/b.d", "a/b/c", "a/b/e/f", "a/bc", "a/x/y.sst", "z"},
		"a/b":      {"a/b.d", "a/b/c", "a/b/e/f", "a/bc"},
		"a/b/":     {"a/b/c", "a/b/e/f"},
		"a/x/":     {"a/x/y.sst"},
		"q/":       {},
		"a/b/c/d/": {},
	} {
		if got := listKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("list %q = %q, want %q", prefix, got, want)
		}
	}
	objs, err := s.List(ctx, "a/b/e/")
	if err != nil || len(objs) != 1 || objs[0].Size != 300<<10 {
		t.Errorf("list a/b/e/ = %+v, %v; want one object of %d bytes", objs, err, 300<<10)
	}

	// Replace an object.
	put(t, s, "a/b/c", []byte("new"))
	if got := get(t, s, "a/b/c"); string(got) != "new" {
		t.Errorf("after replace, get a/b/c = %q, want new", got)
	}
	// A reader that cannot seek (a pipe, as a generic io.Reader).
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte("piped")); pw.Close() }()
	if err := s.Put(ctx, "a/pipe", pr, 5); err != nil {
		t.Fatalf("put from a pipe: %v", err)
	}
	if got := get(t, s, "a/pipe"); string(got) != "piped" {
		t.Errorf("get a/pipe = %q, want piped", got)
	}

	// Missing keys.
	if _, err := s.Get(ctx, "a/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "a/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stat of a missing key: %v, want ErrNotFound", err)
	}

	// Delete, including a missing key.
	if err := s.Delete(ctx, "a/b/c", "a/b/e/f", "a/nope"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, want := listKeys(t, s, "a/"), []string{"a/b.d", "a/bc", "a/pipe", "a/x/y.sst"}; !slices.Equal(got, want) {
		t.Errorf("after delete, list a/ = %q, want %q", got, want)
	}
	if _, err := s.Get(ctx, "a/b/c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of a deleted key: %v, want ErrNotFound", err)
	}
	// Put again where a directory was removed.
	put(t, s, "a/b/e/f", []byte("back"))
	if got := get(t, s, "a/b/e/f"); string(got) != "back" {
		t.Errorf("get a/b/e/f = %q", got)
	}
}

func testPutRejects(t *testing.T, s Store) {
	ctx := testContext(t)
	for _, key := range []string{"", "/a", "a/", "a//b", "a/../b", "./a", "a/.tmp-x", "a\x00b", `a\b`} {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("put %q succeeded, want an invalid-key error", key)
		}
	}
	// A reader shorter than announced must not leave an object behind.
	if err := s.Put(ctx, "short", strings.NewReader("abc"), 10); err == nil {
		t.Errorf("put of 3 bytes announced as 10 succeeded")
	}
	if _, err := s.Stat(ctx, "short"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a failed put left an object: stat = %v", err)
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("store not empty after rejected puts: %q", got)
	}
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeCheckpoint makes a RocksDB-checkpoint-like directory: SSTs (content does
// not matter here) and the small metadata files.
func writeCheckpoint(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nextCheckpoint makes the next checkpoint of the same instance the way RocksDB
// does: surviving SSTs are hard links to the same inodes; dropped SSTs are gone
// (compacted away); new files are added; metadata files are rewritten.
func nextCheckpoint(t *testing.T, from string, drop []string, add map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	des, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		name := de.Name()
		if slices.Contains(drop, name) || add[name] != nil || !isSST(name) {
			continue
		}
		if err := os.Link(filepath.Join(from, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range add {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func metadata(gen uint64) map[string][]byte {
	return map[string][]byte{
		fmt.Sprintf("MANIFEST-%06d", gen): randBytes(1000+gen, 700),
		fmt.Sprintf("OPTIONS-%06d", gen):  []byte(fmt.Sprintf("[Version]\n  rocksdb_version=7.8.3\n# %d\n", gen)),
		"CURRENT":                         []byte(fmt.Sprintf("MANIFEST-%06d\n", gen)),
	}
}

func merge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func dirSizes(files map[string][]byte) (n int, bytes int64) {
	for _, v := range files {
		n++
		bytes += int64(len(v))
	}
	return n, bytes
}

// readDir returns a directory's files and contents.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[de.Name()] = b
	}
	return out
}

func sameFiles(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if g, ok := got[n]; !ok {
			t.Errorf("file %s missing", n)
		} else if !bytes.Equal(g, want[n]) {
			t.Errorf("file %s differs: %d bytes, want %d", n, len(g), len(want[n]))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("unexpected file %s", n)
		}
	}
}

func upload(t *testing.T, u *Uploader, task string, n uint64, dir string) (Manifest, string, UploadStats) {
	t.Helper()
	m, ref, stats, err := u.Upload(testContext(t), task, n, dir,
		map[string]int64{"app-store-changelog/3": int64(100 * n)}, map[string]int64{"clicks/3": int64(1000 * n)})
	if err != nil {
		t.Fatalf("upload %s/%d: %v", task, n, err)
	}
	return m, ref, stats
}

func download(t *testing.T, s Store, ref string) (Manifest, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restore")
	m, err := Download(testContext(t), s, ref, dir)
	if err != nil {
		t.Fatalf("download %s: %v", ref, err)
	}
	return m, readDir(t, dir)
}

// testDownloadWatched: DownloadWatched reports every byte it writes, from
// its parallel fetches, and the files are those uploaded.
func testDownloadWatched(t *testing.T, s Store) {
	files := merge(map[string][]byte{
		"000020.sst": randBytes(20, 1<<20+5),
		"000021.sst": randBytes(21, 300<<10),
		"000022.sst": randBytes(22, 1),
	}, metadata(7))
	u := NewUploader(s, "app", nil)
	_, ref, _ := upload(t, u, "0_5", 1, writeCheckpoint(t, files))
	var fetched, calls atomic.Int64
	dir := filepath.Join(t.TempDir(), "restore")
	m, err := DownloadWatched(testContext(t), s, ref, dir, func(n int64) { fetched.Add(n); calls.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	if _, want := dirSizes(files); fetched.Load() != want || size != want {
		t.Errorf("reported %d bytes fetched, the manifest has %d; want both %d", fetched.Load(), size, want)
	}
	if calls.Load() < int64(len(files)) {
		t.Errorf("%d reports for %d files", calls.Load(), len(files))
	}
	sameFiles(t, readDir(t, dir), files)
}

func testUploadIncremental(t *testing.T, s Store) {
	ssts := map[string][]byte{
		"000010.sst": randBytes(10, 1<<20+17),
		"000011.sst": randBytes(11, 200<<10),
		"000012.sst": randBytes(12, 3),
	}
	files1 := merge(ssts, metadata(5))
	dir1 := writeCheckpoint(t, files1)
	u := NewUploader(s, "app", nil)

	m1, ref1, st1 := upload(t, u, "0_3", 1, dir1)
	n, b := dirSizes(files1)
	if ref1 != "app/tasks/0_3/1/manifest.json" {
		t.Errorf("ref = %s", ref1)
	}
	if st1.Files != n || st1.Bytes != b || st1.NewFiles != n || st1.NewBytes != b || st1.HashedFiles != n {
		t.Errorf("first upload stats %+v, want %d files / %d bytes, all new and hashed", st1, n, b)
	}
	if len(m1.Files) != n || m1.Checkpoint != 1 || m1.Task != "0_3" || m1.App != "app" || m1.SourceOffsets["clicks/3"] != 1000 {
		t.Errorf("manifest 1 = %+v", m1)
	}
	for _, f := range m1.Files {
		if isSST(f.Name) && f.Key != SSTKey("app", f.SHA256) {
			t.Errorf("SST %s stored at %s, want content-addressed %s", f.Name, f.Key, SSTKey("app", f.SHA256))
		}
		if !isSST(f.Name) && f.Key != "app/tasks/0_3/1/"+f.Name {
			t.Errorf("file %s stored at %s", f.Name, f.Key)
		}
	}

	// Checkpoint 2: one SST compacted away, one new; metadata rewritten.
	newSST := randBytes(13, 600<<10)
	meta2 := metadata(7)
	dir2 := nextCheckpoint(t, dir1, []string{"000011.sst"}, merge(map[string][]byte{"000013.sst": newSST}, meta2))
	files2 := merge(map[string][]byte{"000010.sst": ssts["000010.sst"], "000012.sst": ssts["000012.sst"], "000013.sst": newSST}, meta2)
	m2, ref2, st2 := upload(t, u, "0_3", 2, dir2)
	n2, b2 := dirSizes(files2)
	_, metaBytes := dirSizes(meta2)
	if st2.Files != n2 || st2.Bytes != b2 {
		t.Errorf("second upload: %d files / %d bytes, want %d / %d", st2.Files, st2.Bytes, n2, b2)
	}
	if st2.NewFiles != 1+len(meta2) || st2.NewBytes != int64(len(newSST))+metaBytes {
		t.Errorf("second upload put %d files / %d bytes, want only the new SST and %d metadata files: %d / %d",
			st2.NewFiles, st2.NewBytes, len(meta2), 1+len(meta2), int64(len(newSST))+metaBytes)
	}
	if st2.HashedFiles != 1+len(meta2) || st2.HashedBytes != int64(len(newSST))+metaBytes {
		t.Errorf("second upload hashed %d files / %d bytes, want the unchanged SSTs not read again", st2.HashedFiles, st2.HashedBytes)
	}

	// Downloads reproduce both checkpoints byte for byte.
	got1m, got1 := download(t, s, ref1)
	sameFiles(t, got1, files1)
	got2m, got2 := download(t, s, ref2)
	sameFiles(t, got2, files2)
	if got2m.ChangelogOffsets["app-store-changelog/3"] != 200 || got2m.SourceOffsets["clicks/3"] != 2000 || !got2m.Created.Equal(m2.Created) {
		t.Errorf("downloaded manifest 2 = %+v, want the uploaded one %+v", got2m, m2)
	}
	if got1m.Checkpoint != 1 {
		t.Errorf("downloaded manifest 1 says checkpoint %d", got1m.Checkpoint)
	}

	snaps, err := ListComplete(testContext(t), s, "app", "0_3")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].Checkpoint != 2 || snaps[0].Ref != ref2 || snaps[1].Checkpoint != 1 || snaps[1].Ref != ref1 {
		t.Errorf("ListComplete = %+v, want checkpoints 2 then 1", snaps)
	}
	// Task names are whole components: 0_3 does not list 0_30's snapshots.
	upload(t, u, "0_30", 1, dir2)
	if snaps, _ := ListComplete(testContext(t), s, "app", "0_3"); len(snaps) != 2 {
		t.Errorf("ListComplete(0_3) = %+v, want 2 snapshots", snaps)
	}

	// A directory a Download must refuse.
	notEmpty := t.TempDir()
	os.WriteFile(filepath.Join(notEmpty, "x"), []byte("x"), 0o644)
	if _, err := Download(testContext(t), s, ref2, notEmpty); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("download into a non-empty directory: %v, want a not-empty error", err)
	}
}

func testUploadAfterRestart(t *testing.T, s Store) {
	files := merge(map[string][]byte{"000007.sst": randBytes(7, 400<<10), "000008.sst": randBytes(8, 50<<10)}, metadata(3))
	dir := writeCheckpoint(t, files)
	upload(t, NewUploader(s, "app", nil), "1_0", 4, dir)

	// A new process (or another replica) finds the SSTs in the store.
	_, ref, st := upload(t, NewUploader(s, "app", nil), "1_0", 5, nextCheckpoint(t, dir, nil, metadata(4)))
	if st.NewFiles != 3 || st.HashedFiles != 5 {
		t.Errorf("upload by a new uploader: put %d files, hashed %d; want the 3 metadata files put and all 5 hashed", st.NewFiles, st.HashedFiles)
	}
	_, got := download(t, s, ref)
	sameFiles(t, got, merge(map[string][]byte{"000007.sst": files["000007.sst"], "000008.sst": files["000008.sst"]}, metadata(4)))

	// Checkpoint files that cannot be uploaded.
	u := NewUploader(s, "app", nil)
	sub := writeCheckpoint(t, metadata(1))
	os.Mkdir(filepath.Join(sub, "nested"), 0o755)
	if _, _, _, err := u.Upload(testContext(t), "1_0", 9, sub, nil, nil); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("upload of a directory with a subdirectory: %v, want an error naming it", err)
	}
	if _, _, _, err := u.Upload(testContext(t), "1_0", 9, writeCheckpoint(t, map[string][]byte{"manifest.json": {}}), nil, nil); err == nil {
		t.Errorf("upload of a file named manifest.json succeeded")
	}
	for _, task := range []string{"", "a/b", "..", ".tmp-1"} {
		if _, _, _, err := u.Upload(testContext(t), task, 9, dir, nil, nil); err == nil {
			t.Errorf("upload for task %q succeeded", task)
		}
	}
}

// corruptTarget uploads a checkpoint and returns the store's manifest and ref.
func corruptTarget(t *testing.T, s Store) (Manifest, string, map[string][]byte) {
	files := merge(map[string][]byte{"000020.sst": randBytes(20, 256<<10), "000021.sst": randBytes(21, 70<<10)}, metadata(9))
	m, ref, _ := upload(t, NewUploader(s, "app", nil), "2_1", 1, writeCheckpoint(t, files))
	return m, ref, files
}

func fileEntry(t *testing.T, m Manifest, name string) FileEntry {
	for _, f := range m.Files {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no file %s in the manifest", name)
	return FileEntry{}
}

// expectCorrupt downloads ref and checks the error is a *CorruptError naming file,
// and that nothing is left in the directory.
func expectCorrupt(t *testing.T, s Store, ref, file string) *CorruptError {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restore")
	_, err := Download(testContext(t), s, ref, dir)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("download: %v, want a *CorruptError", err)
	}
	if ce.File != file || ce.Ref != ref || !strings.Contains(err.Error(), file) {
		t.Errorf("CorruptError names file %q (ref %s): %v; want file %s", ce.File, ce.Ref, err, file)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("a failed download left %d files in %s", len(des), dir)
	}
	t.Logf("as expected: %v", err)
	return ce
}

func testCorruptObject(t *testing.T, s Store) {
	m, ref, _ := corruptTarget(t, s)
	for _, name := range []string{"000020.sst", "CURRENT"} {
		f := fileEntry(t, m, name)
		orig := get(t, s, f.Key)
		flipped := bytes.Clone(orig)
		flipped[len(flipped)/2] ^= 0x01
		put(t, s, f.Key, flipped)
		if ce := expectCorrupt(t, s, ref, name); !strings.Contains(ce.Reason, "SHA-256") {
			t.Errorf("reason %q, want a SHA-256 mismatch", ce.Reason)
		}
		put(t, s, f.Key, orig[:len(orig)-1]) // truncated
		if ce := expectCorrupt(t, s, ref, name); !strings.Contains(ce.Reason, "bytes") {
			t.Errorf("reason %q, want a size mismatch", ce.Reason)
		}
		put(t, s, f.Key, append(bytes.Clone(orig), 0)) // longer
		expectCorrupt(t, s, ref, name)
		put(t, s, f.Key, orig)
	}
	download(t, s, ref) // repaired
}

func testMissingObject(t *testing.T, s Store) {
	m, ref, _ := corruptTarget(t, s)
	f := fileEntry(t, m, "000021.sst")
	if err := s.Delete(testContext(t), f.Key); err != nil {
		t.Fatal(err)
	}
	ce := expectCorrupt(t, s, ref, "000021.sst")
	if ce.Key != f.Key || !errors.Is(ce, ErrNotFound) {
		t.Errorf("CorruptError %+v, want key %s and ErrNotFound", ce, f.Key)
	}
	// The manifest itself missing.
	if err := s.Delete(testContext(t), ref); err != nil {
		t.Fatal(err)
	}
	expectCorrupt(t, s, ref, "manifest.json")
}

func testBadManifest(t *testing.T, s Store) {
	m, ref, _ := corruptTarget(t, s)
	good := get(t, s, ref)
	bad := func(mutate func(m *Manifest)) []byte {
		mm := m
		mm.Files = slices.Clone(m.Files)
		mutate(&mm)
		return mustJSON(t, mm)
	}
	for name, data := range map[string][]byte{
		"garbage":        []byte("{not json"),
		"wrong format":   bad(func(m *Manifest) { m.Format = 99 }),
		"wrong task":     bad(func(m *Manifest) { m.Task = "9_9" }),
		"path traversal": bad(func(m *Manifest) { m.Files[0].Name = "../../etc/evil" }),
		"duplicate":      bad(func(m *Manifest) { m.Files = append(m.Files, m.Files[0]) }),
		"bad sha":        bad(func(m *Manifest) { m.Files[0].SHA256 = "xyz" }),
		"foreign key":    bad(func(m *Manifest) { m.Files[0].Key = "other-app/sst/x.sst" }),
		"negative size":  bad(func(m *Manifest) { m.Files[0].Size = -1 }),
	} {
		t.Run(name, func(t *testing.T) {
			put(t, s, ref, data)
			expectCorrupt(t, s, ref, "manifest.json")
		})
	}
	put(t, s, ref, good)
	download(t, s, ref)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A clock for GC and the Uploader that the test moves.
type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

func testGC(t *testing.T, s Store) {
	ctx := testContext(t)
	u := NewUploader(s, "app", nil)
	// Task 0_0: each checkpoint compacts one SST away and adds one.
	type ck struct {
		ref   string
		files map[string][]byte
		m     Manifest
	}
	var t0 []ck
	files := merge(map[string][]byte{"000001.sst": randBytes(101, 10<<10), "000002.sst": randBytes(102, 20<<10)}, metadata(1))
	dir := writeCheckpoint(t, files)
	for n := uint64(1); n <= 3; n++ {
		if n > 1 {
			drop := fmt.Sprintf("%06d.sst", n-1)
			add := fmt.Sprintf("%06d.sst", n+1)
			data := randBytes(100+n+1, 30<<10)
			dir = nextCheckpoint(t, dir, []string{drop}, merge(map[string][]byte{add: data}, metadata(n)))
			next := merge(map[string][]byte{add: data}, metadata(n))
			for name, b := range files {
				if isSST(name) && name != drop {
					next[name] = b
				}
			}
			files = next
		}
		m, ref, _ := upload(t, u, "0_0", n, dir)
		t0 = append(t0, ck{ref, files, m})
	}
	// Task 0_1: three checkpoints of the same files.
	files1 := merge(map[string][]byte{"000005.sst": randBytes(205, 5<<10)}, metadata(1))
	dir1 := writeCheckpoint(t, files1)
	var t1 []string
	for n := uint64(1); n <= 3; n++ {
		_, ref, _ := upload(t, u, "0_1", n, dir1)
		t1 = append(t1, ref)
	}
	// An object GC must leave alone.
	put(t, s, "app/tasks/README", []byte("not a checkpoint"))

	before := listKeys(t, s, "app/")
	keep := map[string][]uint64{"0_0": {3}, "0_1": {2, 3}}

	// Right now everything is younger than the grace period: nothing goes.
	if n, err := GC(ctx, s, "app", keep, GCOptions{}); err != nil || n != 0 {
		t.Fatalf("GC within the grace period deleted %d objects (%v), want 0", n, err)
	}
	if after := listKeys(t, s, "app/"); !slices.Equal(after, before) {
		t.Fatalf("GC within the grace period changed the store")
	}

	// An hour later.
	c := &clock{}
	c.advance(time.Hour)
	deleted, err := GC(ctx, s, "app", keep, GCOptions{Now: c.now})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	after := listKeys(t, s, "app/")
	// Expected survivors: kept checkpoints' objects, the SSTs they reference, README.
	want := map[string]bool{"app/tasks/README": true}
	for _, ref := range []string{t0[2].ref, t1[1], t1[2]} {
		m, err := ReadManifest(ctx, s, ref)
		if err != nil {
			t.Fatal(err)
		}
		want[ref] = true
		for _, f := range m.Files {
			want[f.Key] = true
		}
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(wantKeys)
	if !slices.Equal(after, wantKeys) {
		t.Errorf("after GC:\n got %q\nwant %q", after, wantKeys)
	}
	if deleted != len(before)-len(after) {
		t.Errorf("GC says it deleted %d objects; %d are gone", deleted, len(before)-len(after))
	}
	// SSTs only deleted checkpoints referenced are gone.
	keptSSTs := map[string]bool{}
	for _, f := range t0[2].m.Files {
		keptSSTs[f.Key] = true
	}
	gone := map[string]bool{}
	for _, c := range t0[:2] {
		for _, f := range c.m.Files {
			if isSST(f.Name) && !keptSSTs[f.Key] {
				gone[f.Key] = true
				if _, err := s.Stat(ctx, f.Key); !errors.Is(err, ErrNotFound) {
					t.Errorf("SST %s (%s) of deleted checkpoints only: stat %v, want deleted", f.Name, f.Key, err)
				}
			}
		}
	}
	if len(gone) != 2 {
		t.Errorf("test setup: %d SSTs referenced only by deleted checkpoints, want 2", len(gone))
	}
	_, got := download(t, s, t0[2].ref)
	sameFiles(t, got, t0[2].files)
	for _, ref := range t1[1:] {
		_, got := download(t, s, ref)
		sameFiles(t, got, files1)
	}
	snaps, err := ListComplete(ctx, s, "app", "0_0")
	if err != nil || len(snaps) != 1 || snaps[0].Checkpoint != 3 {
		t.Errorf("ListComplete(0_0) after GC = %+v, %v; want checkpoint 3 only", snaps, err)
	}

	// A second GC finds nothing more; a GC that keeps nothing deletes everything
	// but the foreign object.
	if n, err := GC(ctx, s, "app", keep, GCOptions{Now: c.now}); err != nil || n != 0 {
		t.Errorf("second GC deleted %d (%v), want 0", n, err)
	}
	if _, err := GC(ctx, s, "app", nil, GCOptions{Now: c.now}); err != nil {
		t.Fatal(err)
	}
	if after := listKeys(t, s, "app/"); !slices.Equal(after, []string{"app/tasks/README"}) {
		t.Errorf("after GC keeping nothing: %q", after)
	}
}

func testGCGrace(t *testing.T, s Store) {
	ctx := testContext(t)
	u := NewUploader(s, "app", nil)
	files := merge(map[string][]byte{"000001.sst": randBytes(301, 10<<10)}, metadata(1))
	_, ref1, _ := upload(t, u, "3_0", 1, writeCheckpoint(t, files))

	// An upload in flight: an SST and a metadata file, no manifest yet.
	sstKey := SSTKey("app", strings.Repeat("ab", 32))
	put(t, s, sstKey, []byte("in flight"))
	put(t, s, "app/tasks/3_0/2/CURRENT", []byte("MANIFEST-000002\n"))

	// GC keeping nothing, now: all of it is within the grace period.
	if n, err := GC(ctx, s, "app", nil, GCOptions{}); err != nil || n != 0 {
		t.Errorf("GC deleted %d objects (%v) younger than the grace period", n, err)
	}
	// A short grace period, measured from an hour later: all goes.
	c := &clock{}
	c.advance(time.Hour)
	if n, err := GC(ctx, s, "app", nil, GCOptions{Now: c.now, Grace: 30 * time.Minute}); err != nil || n == 0 {
		t.Errorf("GC an hour later deleted %d objects (%v)", n, err)
	}
	if left := listKeys(t, s, "app/"); len(left) != 0 {
		t.Errorf("left after GC: %q", left)
	}
	if _, err := ReadManifest(ctx, s, ref1); !errors.As(err, new(*CorruptError)) {
		t.Errorf("manifest of a collected checkpoint: %v, want missing", err)
	}
}

func testGCCorruptKeptManifest(t *testing.T, s Store) {
	ctx := testContext(t)
	u := NewUploader(s, "app", nil)
	files := merge(map[string][]byte{"000001.sst": randBytes(401, 10<<10)}, metadata(1))
	dir := writeCheckpoint(t, files)
	upload(t, u, "4_0", 1, dir)
	_, ref2, _ := upload(t, u, "4_0", 2, dir)
	put(t, s, ref2, []byte("garbage"))
	before := listKeys(t, s, "app/")
	c := &clock{}
	c.advance(time.Hour)
	_, err := GC(ctx, s, "app", map[string][]uint64{"4_0": {2}}, GCOptions{Now: c.now})
	if err == nil || !strings.Contains(err.Error(), ref2) {
		t.Errorf("GC with an unreadable kept manifest: %v, want an error naming %s", err, ref2)
	}
	if after := listKeys(t, s, "app/"); !slices.Equal(after, before) {
		t.Errorf("GC deleted objects although it could not read a kept manifest")
	}
}

// testSlowUploadPutsVanishedSST: an SST the uploader knows from its previous
// upload, deleted from the store behind its back (as GC may once that upload is
// old), is put again when the previous manifest is older than Grace/2.
func testSlowUploadPutsVanishedSST(t *testing.T, s Store) {
	ctx := testContext(t)
	c := &clock{}
	u := NewUploader(s, "app", nil)
	u.now = c.now
	files := merge(map[string][]byte{"000001.sst": randBytes(501, 10<<10), "000002.sst": randBytes(502, 10<<10)}, metadata(1))
	dir := writeCheckpoint(t, files)
	m1, _, _ := upload(t, u, "5_0", 1, dir)
	gone := fileEntry(t, m1, "000001.sst").Key
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	c.advance(DefaultGrace) // the previous manifest and the uploader's puts are now old
	_, ref, st := upload(t, u, "5_0", 2, nextCheckpoint(t, dir, nil, metadata(2)))
	if st.NewFiles != 1+3 {
		t.Errorf("upload put %d files, want the vanished SST and 3 metadata files", st.NewFiles)
	}
	_, got := download(t, s, ref)
	sameFiles(t, got, merge(map[string][]byte{"000001.sst": files["000001.sst"], "000002.sst": files["000002.sst"]}, metadata(2)))
}

// gcDuringUpload is a store that, when the upload puts its trigger key, moves the
// uploader's clock past the grace period and deletes the objects put so far, as a
// GC running meanwhile could (fault injection).
type gcDuringUpload struct {
	Store
	clock   *clock
	trigger string
	mu      sync.Mutex
	putKeys []string
	fired   bool
}

func (g *gcDuringUpload) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	g.mu.Lock()
	fire := !g.fired && strings.HasSuffix(key, g.trigger)
	if fire {
		g.fired = true
	}
	earlier := slices.Clone(g.putKeys)
	g.putKeys = append(g.putKeys, key)
	g.mu.Unlock()
	if fire {
		g.clock.advance(DefaultGrace)
		if err := g.Store.Delete(ctx, earlier...); err != nil {
			return err
		}
	}
	return g.Store.Put(ctx, key, r, size)
}

// testSlowUploadChecksAgain: an upload that takes longer than Grace/2 checks every
// object again before its manifest, and puts again what vanished meanwhile.
func testSlowUploadChecksAgain(t *testing.T, s Store) {
	c := &clock{}
	g := &gcDuringUpload{Store: s, clock: c, trigger: "/OPTIONS-000001"}
	u := NewUploader(g, "app", nil)
	u.now = c.now
	u.Parallelism = 1 // files go in name order: SSTs, CURRENT, MANIFEST-*, then the trigger
	files := merge(map[string][]byte{"000001.sst": randBytes(701, 10<<10), "000002.sst": randBytes(702, 10<<10)}, metadata(1))
	_, ref, st := upload(t, u, "7_0", 1, writeCheckpoint(t, files))
	if !g.fired {
		t.Fatal("the trigger key was never put")
	}
	if st.NewFiles != 5+4 {
		t.Errorf("upload put %d files, want 5 and the 4 deleted meanwhile again", st.NewFiles)
	}
	_, got := download(t, s, ref)
	sameFiles(t, got, files)
}

// blockingStore holds every Put until release is closed (fault injection: a slow
// store), so the background queue fills up deterministically.
type blockingStore struct {
	Store
	release chan struct{}
	started chan struct{}
}

func (b *blockingStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	select {
	case b.started <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Store.Put(ctx, key, r, size)
}

func testBackground(t *testing.T, s Store) {
	ctx := testContext(t)
	bs := &blockingStore{Store: s, release: make(chan struct{}), started: make(chan struct{}, 1)}
	u := NewUploader(bs, "app", nil)
	u.Workers, u.QueueSize = 1, 1
	files := merge(map[string][]byte{"000001.sst": randBytes(601, 10<<10)}, metadata(1))
	dir := writeCheckpoint(t, files)

	results := make(chan Result, 3)
	done := func(r Result) { results <- r }
	if err := u.Go(ctx, Job{Task: "6_0", Checkpoint: 1, Dir: dir}, done); err != nil {
		t.Fatalf("Go: %v", err)
	}
	<-bs.started // the worker is busy with job 1
	if err := u.Go(ctx, Job{Task: "6_1", Checkpoint: 1, Dir: dir}, done); err != nil {
		t.Fatalf("Go (queued): %v", err)
	}
	if err := u.Go(ctx, Job{Task: "6_2", Checkpoint: 1, Dir: dir}, done); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Go with a full queue: %v, want ErrQueueFull", err)
	}
	close(bs.release)
	got := map[string]Result{}
	for range 2 {
		r := <-results
		got[r.Job.Task] = r
	}
	for _, task := range []string{"6_0", "6_1"} {
		r := got[task]
		if r.Err != nil || r.Ref != ManifestKey("app", task, 1) || r.Stats.Files != 4 {
			t.Errorf("background upload of %s: %+v", task, r)
		}
		_, restored := download(t, s, r.Ref)
		sameFiles(t, restored, files)
	}
	u.Close()
	if err := u.Go(ctx, Job{Task: "6_3", Checkpoint: 1, Dir: dir}, done); !errors.Is(err, ErrClosed) {
		t.Errorf("Go after Close: %v, want ErrClosed", err)
	}
}
