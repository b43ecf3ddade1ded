package rocks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofka/streams/state"
)

var testMem = Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20}

// openPool opens a pool in dir, closed when the test ends.
func openPool(t testing.TB, dir string, mem Memory) *Pool {
	t.Helper()
	p, err := OpenPool(dir, mem)
	if err != nil {
		t.Fatalf("OpenPool: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// instance opens an instance of p, closed when the test ends.
func instance(t testing.TB, p *Pool, name string) *DB {
	t.Helper()
	db, err := p.Open(name)
	if err != nil {
		t.Fatalf("Pool.Open(%q): %v", name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openCheckpoint opens the checkpoint in dir as the instance "cp" of a new pool,
// which Install moves it into (dir must be on the file system of t.TempDir()).
func openCheckpoint(t testing.TB, dir string) *DB {
	t.Helper()
	p := openPool(t, t.TempDir(), testMem)
	if err := p.Install("cp", dir); err != nil {
		t.Fatal(err)
	}
	return instance(t, p, "cp")
}

// open opens instance "0_0" of a new pool in dir.
func open(t testing.TB, dir string, mem Memory) *DB {
	t.Helper()
	return instance(t, openPool(t, dir, mem), "0_0")
}

func store(t testing.TB, db *DB, name string, p int32) *Store {
	t.Helper()
	s, err := db.Store(name, p)
	if err != nil {
		t.Fatalf("Store(%q, %d): %v", name, p, err)
	}
	return s
}

func mustGet(t *testing.T, s *Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v), ok
}

func wantGet(t *testing.T, s *Store, key, want string) {
	t.Helper()
	if v, ok := mustGet(t, s, key); !ok || v != want {
		t.Fatalf("%v Get(%q) = %q, %v; want %q, true", s.StorePartition(), key, v, ok, want)
	}
}

func wantMissing(t *testing.T, s *Store, key string) {
	t.Helper()
	if v, ok := mustGet(t, s, key); ok {
		t.Fatalf("%v Get(%q) = %q, true; want not found", s.StorePartition(), key, v)
	}
}

func mustPut(t testing.TB, s *Store, key, value string) {
	t.Helper()
	if err := s.Put([]byte(key), []byte(value)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func all(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	if err := s.Range(func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatalf("Range: %v", err)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPutGetDeleteRange(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	s := store(t, db, "counts", 0)

	wantMissing(t, s, "a")
	mustPut(t, s, "b", "2")
	mustPut(t, s, "a", "1")
	mustPut(t, s, "c", "3")
	mustPut(t, s, "a", "one") // overwrite
	mustPut(t, s, "", "empty key")
	mustPut(t, s, "e", "") // empty value
	wantGet(t, s, "a", "one")
	wantGet(t, s, "", "empty key")
	wantGet(t, s, "e", "")

	// The result is the Store's buffer: valid until the next call, then reused.
	v1, _, _ := s.Get([]byte("b"))
	if string(v1) != "2" {
		t.Fatalf("Get(b) = %q", v1)
	}
	if err := s.Delete([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete([]byte("never-there")); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, s, "b")

	got := all(t, s)
	want := []string{"=empty key", "a=one", "c=3", "e="}
	if !equal(got, want) {
		t.Fatalf("Range = %q, want %q", got, want)
	}

	// Range stops at fn's error and returns it unchanged.
	stop := errors.New("stop")
	n := 0
	err := s.Range(func(k, v []byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("Range with stop = %v after %d calls", err, n)
	}

	// fn may write to the store it ranges over; the iteration sees its start state.
	err = s.Range(func(k, v []byte) error { return s.Put(append([]byte("z"), k...), v) })
	if err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, "zc", "3")
	if got := len(all(t, s)); got != 8 {
		t.Fatalf("after copying Range, %d entries, want 8", got)
	}
}

func TestBinaryKeysOrder(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	s := store(t, db, "bin", 3)
	keys := [][]byte{{0xff}, {0x00}, {0x00, 0x00}, {0x80, 0x01}, {0x7f}}
	for i, k := range keys {
		if err := s.Put(k, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var prev []byte
	n := 0
	if err := s.Range(func(k, v []byte) error {
		if n > 0 && bytes.Compare(prev, k) >= 0 {
			t.Errorf("Range out of order: %x then %x", prev, k)
		}
		prev = append(prev[:0], k...)
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(keys) {
		t.Fatalf("Range saw %d keys, want %d", n, len(keys))
	}
}

func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	p := openPool(t, dir, testMem)
	db, err := p.Open("1_2")
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Store("counts", 1)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "k", "v")
	mustPut(t, s, "gone", "x")
	if err := s.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store("empty", 0); err != nil { // a column family with no data
		t.Fatal(err)
	}
	// No Flush: the WAL must bring the writes back.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // double Close is safe
		t.Fatal(err)
	}
	if _, _, err := s.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if err := s.Put([]byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v, want ErrClosed", err)
	}
	if _, err := db.Store("counts", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Store after Close: %v, want ErrClosed", err)
	}

	db = instance(t, p, "1_2")
	got := db.Stores()
	want := []StorePartition{{"counts", 1}, {"empty", 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Stores after reopen = %v, want %v", got, want)
	}
	s = store(t, db, "counts", 1)
	wantGet(t, s, "k", "v")
	wantMissing(t, s, "gone")

	// Flushed data survives too, and a new pool on the same directory finds it.
	mustPut(t, s, "k2", "v2")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store("counts", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Store after Pool.Close: %v, want ErrClosed", err)
	}
	p = openPool(t, dir, testMem)
	if names, err := p.Instances(); err != nil || !equal(names, []string{"1_2"}) {
		t.Fatalf("Instances after reopen = %q, %v", names, err)
	}
	db = instance(t, p, "1_2")
	s = store(t, db, "counts", 1)
	if got := all(t, s); !equal(got, []string{"k=v", "k2=v2"}) {
		t.Fatalf("after flush and reopen: %q", got)
	}
}

// TestSecondOpenFails checks that a pool's directory and an open instance cannot be
// opened twice: by a second pool in this process, by another process (the flock),
// or by the same pool.
func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	p := openPool(t, dir, testMem)
	instance(t, p, "0_1")
	if p2, err := OpenPool(dir, testMem); err == nil {
		p2.Close()
		t.Fatal("second OpenPool of the same dir succeeded")
	} else if !strings.Contains(err.Error(), "in use by another pool") {
		t.Fatalf("second OpenPool: %v; want it to say the directory is in use", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOpenPool$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOFKA_ROCKS_HELPER_POOL="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another pool") {
		t.Fatalf("OpenPool in another process: %v\n%s\nwant it to fail: the directory is in use", err, out)
	}
	if db, err := p.Open("0_1"); !errors.Is(err, ErrInstanceOpen) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("second Pool.Open of an open instance: %v, want ErrInstanceOpen", err)
	}
}

// TestHelperOpenPool is run by TestSecondOpenFails in a child process.
func TestHelperOpenPool(t *testing.T) {
	dir := os.Getenv("GOFKA_ROCKS_HELPER_POOL")
	if dir == "" {
		return // not the child
	}
	p, err := OpenPool(dir, testMem)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}

func TestStoresIsolated(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	// Names chosen so that naive concatenation would collide.
	sps := []StorePartition{{"a", 0}, {"a", 1}, {"a", 10}, {"a/1", 0}, {"b", 0}, {"a/1", 2}}
	stores := map[StorePartition]*Store{}
	for _, sp := range sps {
		s := store(t, db, sp.Store, sp.Partition)
		stores[sp] = s
		mustPut(t, s, "k", sp.String())
		mustPut(t, s, "only-"+sp.String(), "x")
	}
	for _, sp := range sps {
		s := stores[sp]
		wantGet(t, s, "k", sp.String())
		if got := all(t, s); len(got) != 2 {
			t.Fatalf("%v Range = %q, want 2 entries", sp, got)
		}
	}
	// A second Store for the same partition sees the same data, with its own buffer.
	a1 := StorePartition{"a", 1}
	s2 := store(t, db, "a", 1)
	v1, _, _ := stores[a1].Get([]byte("k"))
	v2, _, _ := s2.Get([]byte("only-" + a1.String()))
	if string(v1) != a1.String() || string(v2) != "x" {
		t.Fatalf("two Stores of one partition: %q, %q", v1, v2)
	}
	if _, err := db.Store("", 0); err == nil {
		t.Fatal("Store with empty name succeeded")
	}
	if _, err := db.Store("a", -1); err == nil {
		t.Fatal("Store with negative partition succeeded")
	}
}

func TestChangelogOffsets(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db := instance(t, p, "0_0")
	if _, ok, err := db.ChangelogOffset("counts", 0); err != nil || ok {
		t.Fatalf("ChangelogOffset of a fresh store = %v, %v", ok, err)
	}
	offs := map[StorePartition]int64{{"counts", 0}: 42, {"counts", 1}: 0, {"sums", 7}: 1 << 40}
	if err := db.SetChangelogOffsets(offs); err != nil {
		t.Fatal(err)
	}
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 0}: 43}); err != nil {
		t.Fatal(err)
	}
	offs[StorePartition{"counts", 0}] = 43
	check := func(db *DB) {
		t.Helper()
		for sp, want := range offs {
			got, ok, err := db.ChangelogOffset(sp.Store, sp.Partition)
			if err != nil || !ok || got != want {
				t.Fatalf("ChangelogOffset(%v) = %d, %v, %v; want %d", sp, got, ok, err, want)
			}
		}
		if _, ok, _ := db.ChangelogOffset("counts", 2); ok {
			t.Fatal("offset recorded for a partition never set")
		}
	}
	check(db)
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"", 0}: 1}); err == nil {
		t.Fatal("SetChangelogOffsets with an empty store name succeeded")
	}
	db.Close()
	db = instance(t, p, "0_0") // the offsets survive a reopen
	check(db)
}

// TestChangelogOffsetsAtomic checks that one SetChangelogOffsets call is one write:
// checkpoints (point-in-time copies) taken while another goroutine keeps recording
// offsets see each batch entirely or not at all.
func TestChangelogOffsetsAtomic(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	const parts = 16
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for round := int64(1); ; round++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			m := map[StorePartition]int64{}
			for p := int32(0); p < parts; p++ {
				m[StorePartition{"s", p}] = round
			}
			if err := db.SetChangelogOffsets(m); err != nil {
				done <- err
				return
			}
		}
	}()
	base := t.TempDir()
	var seen []int64
	for i := 0; i < 20; i++ {
		cpDir := filepath.Join(base, fmt.Sprint(i))
		info, err := db.Checkpoint(cpDir)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(info.Offsets); n != 0 && n != parts {
			t.Fatalf("checkpoint %d holds offsets of %d partitions: %v", i, n, info.Offsets)
		}
		for sp, off := range info.Offsets {
			if off != info.Offsets[StorePartition{"s", 0}] {
				t.Fatalf("checkpoint %d: %v at %d, partition 0 at %d", i, sp, off, info.Offsets[StorePartition{"s", 0}])
			}
		}
		cp := openCheckpoint(t, cpDir)
		first, ok0, err := cp.ChangelogOffset("s", 0)
		if err != nil {
			t.Fatal(err)
		}
		for p := int32(1); p < parts; p++ {
			off, ok, err := cp.ChangelogOffset("s", p)
			if err != nil || ok != ok0 || off != first {
				t.Fatalf("checkpoint %d: partition %d offset %d,%v; partition 0 %d,%v (%v)", i, p, off, ok, first, ok0, err)
			}
		}
		seen = append(seen, first)
		cp.Close()
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("rounds seen by the checkpoints: %v", seen)
}

func TestDropStore(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db, err := p.Open("2_0")
	if err != nil {
		t.Fatal(err)
	}
	s := store(t, db, "counts", 0)
	other := store(t, db, "counts", 1)
	if n := p.ColumnFamilies(); n != 3 {
		t.Fatalf("N with meta and two stores = %d, want 3", n)
	}
	mustPut(t, s, "k", "v")
	mustPut(t, other, "k", "other")
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 0}: 5, {"counts", 1}: 6}); err != nil {
		t.Fatal(err)
	}
	if err := db.DropStore("counts", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get([]byte("k")); !errors.Is(err, ErrDropped) {
		t.Fatalf("Get on a dropped Store: %v, want ErrDropped", err)
	} else if want := `store "counts" partition 0`; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not name %s", err, want)
	}
	if _, ok, _ := db.ChangelogOffset("counts", 0); ok {
		t.Fatal("dropped store kept its changelog offset")
	}
	if err := db.DropStore("never", 3); err != nil { // nothing to drop is fine
		t.Fatal(err)
	}
	if n := p.ColumnFamilies(); n != 2 {
		t.Fatalf("N after a drop = %d, want 2", n)
	}
	s = store(t, db, "counts", 0)
	wantMissing(t, s, "k")
	mustPut(t, s, "new", "1")
	wantGet(t, other, "k", "other")
	if off, ok, _ := db.ChangelogOffset("counts", 1); !ok || off != 6 {
		t.Fatalf("other partition's offset = %d, %v", off, ok)
	}
	db.Close()

	db = instance(t, p, "2_0")
	s = store(t, db, "counts", 0)
	if got := all(t, s); !equal(got, []string{"new=1"}) {
		t.Fatalf("recreated store after reopen: %q", got)
	}
	if _, ok, _ := db.ChangelogOffset("counts", 0); ok {
		t.Fatal("dropped offset came back after reopen")
	}
}

func encodeInt64(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

func decodeInt64(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("int64: %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func TestTypedCacheOverStore(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	db, err := p.Open("0_0")
	if err != nil {
		t.Fatal(err)
	}
	s := store(t, db, "counts", 0)
	c := state.NewCache[int64](s, encodeInt64, decodeInt64, 10) // small: forces evicting flushes
	key := func(i int) []byte { return []byte(fmt.Sprintf("key-%03d", i)) }
	for round := 0; round < 3; round++ {
		for i := 0; i < 50; i++ {
			v, _, err := c.Get(key(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Put(key(i), v+int64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.Delete(key(7)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = instance(t, p, "0_0")
	c = state.NewCache[int64](store(t, db, "counts", 0), encodeInt64, decodeInt64, 0)
	for i := 0; i < 50; i++ {
		v, ok, err := c.Get(key(i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			if ok {
				t.Fatalf("deleted key 7 = %d", v)
			}
			continue
		}
		if !ok || v != int64(3*i) {
			t.Fatalf("key %d = %d, %v; want %d", i, v, ok, 3*i)
		}
	}
}

func TestSplitBudget(t *testing.T) {
	// 128 MiB less the fixed 48 MiB leaves 80: 3/16, 1/8 and 1/8 of it.
	mem, typed := SplitBudget(128 << 20)
	if mem.BlockCache != 15<<20 || mem.WriteBuffers != 10<<20 || typed != 10<<20 {
		t.Fatalf("SplitBudget(128 MiB) = %+v, %d; want 15, 10 and 10 MiB", mem, typed)
	}
	// 32 MiB gives half to the fixed part: 16 MiB left.
	if mem, typed := SplitBudget(32 << 20); mem.BlockCache != 3<<20 || mem.WriteBuffers != 2<<20 || typed != 2<<20 {
		t.Fatalf("SplitBudget(32 MiB) = %+v, %d; want 3, 2 and 2 MiB", mem, typed)
	}
	mem, typed = SplitBudget(7)
	if mem.BlockCache+mem.WriteBuffers+typed > 7 {
		t.Fatalf("SplitBudget(7) = %+v, %d: more than the budget", mem, typed)
	}
	db := open(t, t.TempDir(), Memory{})
	def, _ := SplitBudget(DefaultBudget)
	if db.Memory() != def {
		t.Fatalf("zero Memory opened as %+v, want %+v", db.Memory(), def)
	}
	if _, err := OpenPool(t.TempDir(), Memory{BlockCache: -1}); err == nil {
		t.Fatal("OpenPool with a negative block cache succeeded")
	}
	if _, err := OpenPool(t.TempDir(), Memory{WriteBuffers: -1}); err == nil {
		t.Fatal("OpenPool with a negative budget succeeded")
	}
}

// TestTinyBudget writes ~17 MB across 5 instances of 4 store partitions each (25
// column families with the metas), one writer goroutine per instance, under a 1 MiB
// block cache and 4 MiB of write buffers, and checks that everything still works
// and that RocksDB's memory, summed over the instances, stays near the budget.
func TestTinyBudget(t *testing.T) {
	mem := Memory{BlockCache: 1 << 20, WriteBuffers: 4 << 20}
	p := openPool(t, t.TempDir(), mem)
	const (
		instances = 5
		stores    = 4
		perCF     = 4000
		valSize   = 200
	)
	dbs := make([]*DB, instances)
	sts := make([][]*Store, instances)
	for i := range dbs {
		dbs[i] = instance(t, p, fmt.Sprintf("0_%d", i))
		for j := 0; j < stores; j++ {
			sts[i] = append(sts[i], store(t, dbs[i], fmt.Sprintf("s%d", j), int32(i)))
		}
	}
	families := instances * (stores + 1)
	if n := p.ColumnFamilies(); n != families {
		t.Fatalf("N = %d, want %d", n, families)
	}
	wbs := p.WriteBufferSize()
	if want := WriteBufferSize(mem.WriteBuffers, families); wbs != want {
		t.Fatalf("write_buffer_size with %d column families = %d, want %d", families, wbs, want)
	}
	for _, db := range dbs {
		if got := db.WriteBufferSize(); got != wbs {
			t.Fatalf("instance %s has write_buffer_size %d, the pool %d", db.Name(), got, wbs)
		}
	}
	if bound := int64(families) * maxWriteBuffers * wbs; bound > mem.WriteBuffers {
		t.Fatalf("the rule gives %d B of memtables, above the %d B pool", bound, mem.WriteBuffers)
	}

	var peak atomic.Uint64
	sample := func() error {
		u, err := p.MemoryUsage()
		if err != nil {
			return err
		}
		for {
			old := peak.Load()
			if u.CurMemTables <= old || peak.CompareAndSwap(old, u.CurMemTables) {
				return nil
			}
		}
	}
	value := func(i, j, k int) uint32 { return uint32((i*stores+j)*perCF + k) }
	errs := make(chan error, instances)
	for i := range dbs {
		go func() {
			val := bytes.Repeat([]byte("v"), valSize)
			for k := 0; k < perCF; k++ {
				key := fmt.Appendf(nil, "key-%06d", k)
				for j, s := range sts[i] {
					binary.BigEndian.PutUint32(val, value(i, j, k))
					if err := s.Put(key, val); err != nil {
						errs <- err
						return
					}
				}
				if k%50 == 0 {
					if err := sample(); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range dbs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := sample(); err != nil {
		t.Fatal(err)
	}
	// Read a sample back (through SST files and the block cache).
	for i := range dbs {
		for j, s := range sts[i] {
			for k := 0; k < perCF; k += 7 {
				v, ok, err := s.Get(fmt.Appendf(nil, "key-%06d", k))
				if err != nil || !ok || len(v) != valSize || binary.BigEndian.Uint32(v) != value(i, j, k) {
					t.Fatalf("instance %d store %d key %d: %d bytes, %v, %v", i, j, k, len(v), ok, err)
				}
			}
		}
	}
	u, err := p.MemoryUsage()
	if err != nil {
		t.Fatal(err)
	}
	cacheProp, _ := dbs[0].IntProperty("rocksdb.block-cache-usage", nil)
	t.Logf("budget: block cache %d B, write buffers %d B; %d instances, %d column families of write_buffer_size %d B",
		mem.BlockCache, mem.WriteBuffers, instances, families, wbs)
	t.Logf("after writing %d MB: cur-size-all-mem-tables peak %d B (%.2f× the pool), now %d B; block-cache-usage %d B (property %d B, pinned %d B, %.2f× capacity); table readers %d B",
		instances*stores*perCF*(valSize+10)>>20, peak.Load(), float64(peak.Load())/float64(mem.WriteBuffers), u.CurMemTables,
		u.BlockCache, cacheProp, u.BlockCachePinned, float64(u.BlockCache)/float64(mem.BlockCache), u.TableReaders)
	// Per column family at most max_write_buffer_number memtables, each at most
	// write_buffer_size plus one arena block (an eighth of it).
	if limit := uint64(float64(mem.WriteBuffers) * 1.25); peak.Load() > limit {
		t.Errorf("memtables peaked at %d B, above %d B", peak.Load(), limit)
	}
	if limit := uint64(float64(mem.BlockCache) * 1.25); u.BlockCache > limit {
		t.Errorf("block cache holds %d B, above %d B", u.BlockCache, limit)
	}

	// Closing instances and dropping stores gives the rest bigger memtables.
	for i := 1; i < instances; i++ {
		if err := dbs[i].Close(); err != nil {
			t.Fatal(err)
		}
	}
	for j := 1; j < stores; j++ {
		if err := dbs[0].DropStore(fmt.Sprintf("s%d", j), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.ColumnFamilies(); n != 2 {
		t.Fatalf("N after closing and dropping = %d, want 2", n)
	}
	if got, want := dbs[0].WriteBufferSize(), WriteBufferSize(mem.WriteBuffers, 2); got != want || got <= wbs {
		t.Fatalf("write_buffer_size with 2 column families = %d, want %d", got, want)
	}
	db := instance(t, p, "0_3")
	v, ok, err := store(t, db, "s1", 3).Get([]byte("key-003999"))
	if err != nil || !ok || binary.BigEndian.Uint32(v) != value(3, 1, 3999) {
		t.Fatalf("after reopen: %x, %v, %v", v, ok, err)
	}
}

func TestWriteBufferSize(t *testing.T) {
	for _, c := range []struct {
		pool int64
		cfs  int
		want int64
	}{
		{64 << 20, 1, 32 << 20},
		{64 << 20, 3, 8 << 20}, // 64/6 = 10.7 MiB, rounded down
		{64 << 20, 32, 1 << 20},
		{1 << 30, 1, 64 << 20},   // ceiling
		{1 << 20, 100, 64 << 10}, // floor
		{1 << 20, 0, 512 << 10},
	} {
		if got := WriteBufferSize(c.pool, c.cfs); got != c.want {
			t.Errorf("WriteBufferSize(%d, %d) = %d, want %d", c.pool, c.cfs, got, c.want)
		}
		if got := WriteBufferSize(c.pool, c.cfs); c.want > minWriteBufferSize && int64(max(c.cfs, 1))*maxWriteBuffers*got > c.pool {
			t.Errorf("WriteBufferSize(%d, %d) = %d exceeds the pool", c.pool, c.cfs, got)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	db := open(b, b.TempDir(), testMem)
	s := store(b, db, "bench", 0)
	const n = 10_000
	keys := make([][]byte, n)
	val := bytes.Repeat([]byte("v"), 64)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%08d", i)
		if err := s.Put(keys[i], val); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := s.Get(keys[i%n]); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	db := open(b, b.TempDir(), testMem)
	s := store(b, db, "bench", 0)
	const n = 10_000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%08d", i)
	}
	val := bytes.Repeat([]byte("v"), 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Put(keys[i%n], val); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentUseAndClose runs Stores of different partitions in parallel with
// offset commits, then closes the DB (or its whole pool) under them: every call
// either works or fails with ErrClosed, none touches freed memory.
func TestConcurrentUseAndClose(t *testing.T) {
	for _, closePool := range []bool{false, true} {
		t.Run(fmt.Sprintf("closePool=%v", closePool), func(t *testing.T) {
			p := openPool(t, t.TempDir(), testMem)
			db, err := p.Open("0_0")
			if err != nil {
				t.Fatal(err)
			}
			const workers = 4
			errs := make(chan error, workers+1)
			started := make(chan struct{}, workers+1)
			for w := 0; w < workers; w++ {
				s := store(t, db, "c", int32(w))
				go func() {
					k := []byte("k")
					for i := 0; ; i++ {
						if i == 100 {
							started <- struct{}{}
						}
						var err error
						switch i % 3 {
						case 0:
							err = s.Put(k, fmt.Appendf(nil, "%d", i))
						case 1:
							_, _, err = s.Get(k)
						case 2:
							err = s.Range(func(k, v []byte) error { return nil })
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			go func() {
				for i := int64(0); ; i++ {
					if i == 100 {
						started <- struct{}{}
					}
					if err := db.SetChangelogOffsets(map[StorePartition]int64{{"c", 0}: i, {"c", 1}: i}); err != nil {
						errs <- err
						return
					}
				}
			}()
			for i := 0; i < workers+1; i++ {
				<-started
			}
			if closePool {
				err = p.Close()
			} else {
				err = db.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < workers+1; i++ {
				if err := <-errs; !errors.Is(err, ErrClosed) {
					t.Errorf("call racing Close: %v, want ErrClosed", err)
				}
			}
			if n := p.ColumnFamilies(); n != 0 {
				t.Errorf("N after Close = %d, want 0", n)
			}
		})
	}
}
