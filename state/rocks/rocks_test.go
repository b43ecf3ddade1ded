package rocks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gofka/streams/state"
)

var testMem = Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20}

func open(t testing.TB, dir string, mem Memory) *DB {
	t.Helper()
	db, err := Open(dir, mem)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
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
	db, err := Open(dir, testMem)
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

	db = open(t, dir, testMem)
	got := db.Stores()
	want := []StorePartition{{"counts", 1}, {"empty", 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Stores after reopen = %v, want %v", got, want)
	}
	s = store(t, db, "counts", 1)
	wantGet(t, s, "k", "v")
	wantMissing(t, s, "gone")

	// Flushed data survives too.
	mustPut(t, s, "k2", "v2")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dir, testMem)
	s = store(t, db, "counts", 1)
	if got := all(t, s); !equal(got, []string{"k=v", "k2=v2"}) {
		t.Fatalf("after flush and reopen: %q", got)
	}
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, testMem)
	if db, err := Open(dir, testMem); err == nil {
		db.Close()
		t.Fatal("second Open of the same dir succeeded")
	}
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
	dir := t.TempDir()
	db, err := Open(dir, testMem)
	if err != nil {
		t.Fatal(err)
	}
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
	db = open(t, dir, testMem)
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
		if err := db.Checkpoint(cpDir); err != nil {
			t.Fatal(err)
		}
		cp := open(t, cpDir, testMem)
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
	dir := t.TempDir()
	db, err := Open(dir, testMem)
	if err != nil {
		t.Fatal(err)
	}
	s := store(t, db, "counts", 0)
	other := store(t, db, "counts", 1)
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
	s = store(t, db, "counts", 0)
	wantMissing(t, s, "k")
	mustPut(t, s, "new", "1")
	wantGet(t, other, "k", "other")
	if off, ok, _ := db.ChangelogOffset("counts", 1); !ok || off != 6 {
		t.Fatalf("other partition's offset = %d, %v", off, ok)
	}
	db.Close()

	db = open(t, dir, testMem)
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
	dir := t.TempDir()
	db, err := Open(dir, testMem)
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

	db = open(t, dir, testMem)
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

func TestCheckpoint(t *testing.T) {
	db := open(t, t.TempDir(), testMem)
	s := store(t, db, "counts", 2)
	mustPut(t, s, "k", "v")
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 2}: 9}); err != nil {
		t.Fatal(err)
	}
	cpDir := filepath.Join(t.TempDir(), "cp")
	if err := db.Checkpoint(cpDir); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(cpDir); err == nil {
		t.Fatal("Checkpoint into an existing dir succeeded")
	}
	mustPut(t, s, "after", "x") // not in the copy

	cp := open(t, cpDir, testMem)
	cs := store(t, cp, "counts", 2)
	if got := all(t, cs); !equal(got, []string{"k=v"}) {
		t.Fatalf("checkpoint holds %q", got)
	}
	if off, ok, err := cp.ChangelogOffset("counts", 2); err != nil || !ok || off != 9 {
		t.Fatalf("checkpoint offset = %d, %v, %v", off, ok, err)
	}
	// The copy is independent of the original.
	mustPut(t, cs, "k", "changed")
	wantGet(t, s, "k", "v")
}

func TestSplitBudget(t *testing.T) {
	mem, typed := SplitBudget(100 << 20)
	if mem.BlockCache != 50<<20 || mem.WriteBuffers != 25<<20 || typed != 25<<20 {
		t.Fatalf("SplitBudget(100 MiB) = %+v, %d", mem, typed)
	}
	mem, typed = SplitBudget(7)
	if mem.BlockCache+mem.WriteBuffers+typed != 7 {
		t.Fatalf("SplitBudget(7) = %+v, %d: does not add up", mem, typed)
	}
	db := open(t, t.TempDir(), Memory{})
	def, _ := SplitBudget(DefaultBudget)
	if db.Memory() != def {
		t.Fatalf("zero Memory opened as %+v, want %+v", db.Memory(), def)
	}
	if _, err := Open(t.TempDir(), Memory{BlockCache: -1}); err == nil {
		t.Fatal("Open with a negative budget succeeded")
	}
}

// TestTinyBudget writes ~17 MB across 20 column families under a 1 MiB block cache
// and 3 MiB of write buffers and checks that everything still works and that
// RocksDB's memory stays near the budget.
func TestTinyBudget(t *testing.T) {
	mem := Memory{BlockCache: 1 << 20, WriteBuffers: 3 << 20}
	dir := t.TempDir()
	db := open(t, dir, mem)
	const (
		families = 20
		perCF    = 4000
		valSize  = 200
	)
	val := bytes.Repeat([]byte("v"), valSize)
	stores := make([]*Store, families)
	for i := range stores {
		stores[i] = store(t, db, fmt.Sprintf("s%02d", i), int32(i%4))
	}
	wbs := db.WriteBufferSize()
	if want := WriteBufferSize(mem.WriteBuffers, families+1); wbs != want {
		t.Fatalf("write_buffer_size with %d column families = %d, want %d", families+1, wbs, want)
	}
	var peak uint64
	sample := func() {
		u, err := db.MemoryUsage()
		if err != nil {
			t.Fatal(err)
		}
		peak = max(peak, u.CurMemTables)
	}
	for j := 0; j < perCF; j++ {
		for i, s := range stores {
			k := fmt.Appendf(nil, "key-%06d", j)
			binary.BigEndian.PutUint32(val, uint32(i*perCF+j))
			if err := s.Put(k, val); err != nil {
				t.Fatal(err)
			}
		}
		if j%50 == 0 {
			sample()
		}
	}
	sample()
	// Read a sample back (through SST files and the block cache).
	for i, s := range stores {
		for j := 0; j < perCF; j += 7 {
			v, ok, err := s.Get(fmt.Appendf(nil, "key-%06d", j))
			if err != nil || !ok || len(v) != valSize || binary.BigEndian.Uint32(v) != uint32(i*perCF+j) {
				t.Fatalf("store %d key %d: %d bytes, %v, %v", i, j, len(v), ok, err)
			}
		}
	}
	u, err := db.MemoryUsage()
	if err != nil {
		t.Fatal(err)
	}
	cacheProp, _ := db.IntProperty("rocksdb.block-cache-usage", nil)
	t.Logf("budget: block cache %d B, write buffers %d B; %d column families of write_buffer_size %d B",
		mem.BlockCache, mem.WriteBuffers, families+1, wbs)
	t.Logf("after writing %d MB: cur-size-all-mem-tables peak %d B (%.2f× the pool), now %d B; block-cache-usage %d B (property %d B, pinned %d B, %.2f× capacity); table readers %d B",
		families*perCF*(valSize+10)>>20, peak, float64(peak)/float64(mem.WriteBuffers), u.CurMemTables,
		u.BlockCache, cacheProp, u.BlockCachePinned, float64(u.BlockCache)/float64(mem.BlockCache), u.TableReaders)
	// Per column family at most max_write_buffer_number memtables, each at most
	// write_buffer_size plus one arena block (an eighth of it), and an empty one.
	if limit := uint64(float64(mem.WriteBuffers) * 1.25); peak > limit {
		t.Errorf("memtables peaked at %d B, above %d B", peak, limit)
	}
	if limit := uint64(float64(mem.BlockCache) * 1.25); u.BlockCache > limit {
		t.Errorf("block cache holds %d B, above %d B", u.BlockCache, limit)
	}

	// Dropping most stores gives the rest bigger memtables.
	for i := 2; i < families; i++ {
		if err := db.DropStore(fmt.Sprintf("s%02d", i), int32(i%4)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := db.WriteBufferSize(), WriteBufferSize(mem.WriteBuffers, 3); got != want || got <= wbs {
		t.Fatalf("write_buffer_size with 3 column families = %d, want %d", got, want)
	}
	db.Close()
	db = open(t, dir, mem)
	v, ok, err := store(t, db, "s01", 1).Get([]byte("key-003999"))
	if err != nil || !ok || binary.BigEndian.Uint32(v) != 1*perCF+3999 {
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
// offset commits, then closes the DB under them: every call either works or fails
// with ErrClosed, none touches freed memory.
func TestConcurrentUseAndClose(t *testing.T) {
	db, err := Open(t.TempDir(), testMem)
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
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < workers+1; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("call racing Close: %v, want ErrClosed", err)
		}
	}
}
