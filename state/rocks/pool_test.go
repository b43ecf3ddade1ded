package rocks

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latestOptions parses the newest OPTIONS-* file RocksDB wrote in an instance's
// directory (it writes one at open and after every SetOptions) and returns, by
// section ("DBOptions" or a column family's name), the value of key.
func latestOptions(t *testing.T, dir, key string) map[string]int64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "OPTIONS-*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no OPTIONS file in %s: %v", dir, err)
	}
	num := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "OPTIONS-"))
		return n
	}
	sort.Slice(names, func(i, j int) bool { return num(names[i]) < num(names[j]) })
	f, err := os.Open(names[len(names)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "[DBOptions]":
			section = "DBOptions"
		case strings.HasPrefix(line, "[CFOptions \""):
			section = strings.TrimSuffix(strings.TrimPrefix(line, "[CFOptions \""), "\"]")
		case strings.HasPrefix(line, "["):
			section = ""
		case section != "" && strings.HasPrefix(line, key+"="):
			v, err := strconv.ParseInt(strings.TrimPrefix(line, key+"="), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", names[len(names)-1], line, err)
			}
			out[section] = v
		}
	}
	return out
}

// TestWriteBufferRuleAcrossInstances follows N and write_buffer_size as instances
// open and close and store partitions come and go, and checks the sizes RocksDB
// itself reports in its OPTIONS files.
func TestWriteBufferRuleAcrossInstances(t *testing.T) {
	mem := Memory{BlockCache: 8 << 20, WriteBuffers: 64 << 20}
	p := openPool(t, t.TempDir(), mem)
	check := func(n int, dbs ...*DB) {
		t.Helper()
		want := WriteBufferSize(mem.WriteBuffers, n)
		if got := p.ColumnFamilies(); got != n {
			t.Fatalf("N = %d, want %d", got, n)
		}
		if got := p.WriteBufferSize(); got != want {
			t.Fatalf("pool write_buffer_size = %d, want %d for N = %d", got, want, n)
		}
		for _, db := range dbs {
			if got := db.WriteBufferSize(); got != want {
				t.Fatalf("instance %s write_buffer_size = %d, want %d", db.Name(), got, want)
			}
			for cf, got := range latestOptions(t, db.Dir(), "write_buffer_size") {
				if got != want {
					t.Fatalf("instance %s column family %q has write_buffer_size %d in RocksDB's OPTIONS, want %d", db.Name(), cf, got, want)
				}
			}
		}
	}
	a := instance(t, p, "0_0")
	check(1, a) // meta: 32 MiB
	b := instance(t, p, "0_1")
	check(2, a, b) // 16 MiB
	// Backstops are fixed at open: WriteBuffers / open instances.
	if got := latestOptions(t, a.Dir(), "db_write_buffer_size")["DBOptions"]; got != mem.WriteBuffers {
		t.Fatalf("first instance db_write_buffer_size = %d, want %d", got, mem.WriteBuffers)
	}
	if got := latestOptions(t, b.Dir(), "db_write_buffer_size")["DBOptions"]; got != mem.WriteBuffers/2 {
		t.Fatalf("second instance db_write_buffer_size = %d, want %d", got, mem.WriteBuffers/2)
	}
	if got := latestOptions(t, b.Dir(), "max_total_wal_size")["DBOptions"]; got != 4*mem.WriteBuffers/2 {
		t.Fatalf("second instance max_total_wal_size = %d, want %d", got, 4*mem.WriteBuffers/2)
	}
	store(t, a, "x", 0)
	store(t, a, "y", 0)
	check(4, a, b) // 8 MiB
	store(t, a, "y", 0)
	check(4, a, b) // an existing store partition does not count twice
	for i := 0; i < 5; i++ {
		store(t, b, "z", int32(i))
	}
	check(9, a, b) // 64/18 MiB: 2 MiB
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	check(3, a)               // 64/6: 8 MiB
	b = instance(t, p, "0_1") // reopening counts its existing column families
	check(9, a, b)
	if err := a.DropStore("x", 0); err != nil {
		t.Fatal(err)
	}
	check(8, a, b) // 4 MiB
	if bound := int64(p.ColumnFamilies()) * maxWriteBuffers * p.WriteBufferSize(); bound > mem.WriteBuffers {
		t.Fatalf("%d B of memtables allowed, above the pool", bound)
	}
}

func TestInstanceNames(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	for _, name := range []string{"", ".", "..", ".staging", ".lock", "a/b", "../x", "x y", "ü", "a\x00", strings.Repeat("a", 201)} {
		if db, err := p.Open(name); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", name)
		}
		if err := p.Remove(name); err == nil {
			t.Errorf("Remove(%q) succeeded", name)
		}
		if err := p.Install(name, t.TempDir()); err == nil {
			t.Errorf("Install(%q) succeeded", name)
		}
	}
	for _, name := range []string{"0_3", "A-b.c_9", "x..y", strings.Repeat("a", 200)} {
		instance(t, p, name)
	}
	names, err := p.Instances()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0_3", "A-b.c_9", strings.Repeat("a", 200), "x..y"}
	if !equal(names, want) {
		t.Fatalf("Instances = %q, want %q (no staging or lock file)", names, want)
	}
}

func TestRemove(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	a := instance(t, p, "0_0")
	b := instance(t, p, "0_1")
	mustPut(t, store(t, a, "s", 0), "k", "a")
	mustPut(t, store(t, b, "s", 1), "k", "b")
	if err := p.Remove("0_0"); !errors.Is(err, ErrInstanceOpen) {
		t.Fatalf("Remove of an open instance: %v, want ErrInstanceOpen", err)
	}
	a.Close()
	if err := p.Remove("0_0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir(), "0_0")); !os.IsNotExist(err) {
		t.Fatalf("removed instance's directory: %v", err)
	}
	if names, _ := p.Instances(); !equal(names, []string{"0_1"}) {
		t.Fatalf("Instances after Remove = %q", names)
	}
	if err := p.Remove("0_0"); err != nil { // already gone
		t.Fatalf("second Remove: %v", err)
	}
	if err := p.Remove("never"); err != nil {
		t.Fatalf("Remove of an unknown instance: %v", err)
	}
	if entries, _ := os.ReadDir(p.StagingDir()); len(entries) != 0 {
		t.Fatalf("Remove left %d entries in staging", len(entries))
	}
	a = instance(t, p, "0_0") // a new, empty instance
	if got := a.Stores(); len(got) != 0 {
		t.Fatalf("recreated instance has stores %v", got)
	}
	wantGet(t, store(t, b, "s", 1), "k", "b")
}

func TestInstallErrors(t *testing.T) {
	p := openPool(t, t.TempDir(), testMem)
	if err := p.Install("0_0", filepath.Join(p.StagingDir(), "missing")); err == nil {
		t.Fatal("Install of a missing directory succeeded")
	}
	file := filepath.Join(p.StagingDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Install("0_0", file); err == nil {
		t.Fatal("Install of a regular file succeeded")
	}
	// A failed Install leaves the old instance in place.
	db := instance(t, p, "0_0")
	mustPut(t, store(t, db, "s", 0), "k", "v")
	db.Close()
	if err := p.Install("0_0", filepath.Join(p.StagingDir(), "missing")); err == nil {
		t.Fatal("Install of a missing directory succeeded")
	}
	db = instance(t, p, "0_0")
	wantGet(t, store(t, db, "s", 0), "k", "v")
}

// TestConcurrentOpenClose runs goroutines that open, use and close instances (the
// same names from several goroutines) while others read pool-wide figures: an
// instance is open at most once at a time, every increment made while holding it
// survives, and N returns to 0.
func TestConcurrentOpenClose(t *testing.T) {
	p := openPool(t, t.TempDir(), Memory{BlockCache: 4 << 20, WriteBuffers: 4 << 20})
	const (
		names   = 4
		workers = 6
		rounds  = 15
	)
	var opened [names]atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				i := (w + r) % names
				db, err := p.Open(fmt.Sprintf("1_%d", i))
				if errors.Is(err, ErrInstanceOpen) {
					continue // another goroutine holds it
				}
				if err != nil {
					errs <- err
					return
				}
				if err := bump(db, w, r); err != nil {
					db.Close()
					errs <- fmt.Errorf("instance %d: %w", i, err)
					return
				}
				opened[i].Add(1)
				if err := db.Close(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := p.MemoryUsage(); err != nil {
				errs <- err
				return
			}
			if _, err := p.Instances(); err != nil {
				errs <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	if err := <-errs; err != nil { // a worker's error or the reader's result
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if n := p.ColumnFamilies(); n != 0 {
		t.Fatalf("N after every instance closed = %d, want 0", n)
	}
	var total int64
	for i := 0; i < names; i++ {
		db := instance(t, p, fmt.Sprintf("1_%d", i))
		v, ok, err := store(t, db, "count", 0).Get([]byte("n"))
		var got int64
		if ok {
			got, _ = strconv.ParseInt(string(v), 10, 64)
		}
		if err != nil || got != opened[i].Load() {
			t.Fatalf("instance %d: count %d (%v), opened %d times", i, got, err, opened[i].Load())
		}
		if off, _, _ := db.ChangelogOffset("count", 0); off != got {
			t.Fatalf("instance %d: offset %d, count %d", i, off, got)
		}
		total += got
	}
	t.Logf("%d opens succeeded out of %d attempts", total, workers*rounds)
}

// bump adds one to the instance's counter (read-modify-write: only safe if the
// instance is held by one goroutine) and creates a store partition per worker.
func bump(db *DB, w, r int) error {
	s, err := db.Store("count", 0)
	if err != nil {
		return err
	}
	v, ok, err := s.Get([]byte("n"))
	if err != nil {
		return err
	}
	var n int64
	if ok {
		n, _ = strconv.ParseInt(string(v), 10, 64)
	}
	n++
	if err := s.Put([]byte("n"), []byte(strconv.FormatInt(n, 10))); err != nil {
		return err
	}
	if _, err := db.Store("worker", int32(w)); err != nil {
		return err
	}
	if err := db.SetChangelogOffsets(map[StorePartition]int64{{"count", 0}: n}); err != nil {
		return err
	}
	if r%5 == 0 {
		return db.Flush()
	}
	return nil
}

// TestPoolCloseWhileOpening closes the pool while goroutines keep opening and
// closing instances: each of their calls works or fails with ErrClosed, and every
// instance ends closed.
func TestPoolCloseWhileOpening(t *testing.T) {
	p, err := OpenPool(t.TempDir(), testMem)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	errs := make(chan error, workers)
	started := make(chan struct{}, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; ; i++ {
				if i == 3 {
					started <- struct{}{}
				}
				db, err := p.Open(fmt.Sprintf("2_%d", w))
				if err != nil {
					errs <- err
					return
				}
				s, err := db.Store("s", int32(w))
				if err == nil {
					err = s.Put([]byte("k"), []byte("v"))
				}
				if err != nil {
					errs <- err
					return
				}
				db.Close()
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-started
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("worker: %v, want ErrClosed", err)
		}
	}
	if _, err := p.Open("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open after Close: %v, want ErrClosed", err)
	}
	if _, err := p.MemoryUsage(); !errors.Is(err, ErrClosed) {
		t.Fatalf("MemoryUsage after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// The lock is released: the directory opens again, with every instance intact.
	p2 := openPool(t, p.Dir(), testMem)
	for w := 0; w < workers; w++ {
		db := instance(t, p2, fmt.Sprintf("2_%d", w))
		wantGet(t, store(t, db, "s", int32(w)), "k", "v")
	}
}

// A column family opened with a large write_buffer_size keeps working after
// the rule shrinks it far below its arena block: RocksDB derives
// arena_block_size from write_buffer_size only at open (1 MiB for 8 MiB and
// more), and a memtable whose arena block is over 2.5× write_buffer_size
// asks to be flushed before it holds anything, which RocksDB's MemTable
// constructor asserts against (the process aborts). Seen with 64 partitions
// under --memory 256MiB. arena_block_size now follows write_buffer_size.
func TestWriteBufferShrinkKeepsArenaBlockInStep(t *testing.T) {
	mem := Memory{BlockCache: 8 << 20, WriteBuffers: 32 << 20}
	p := openPool(t, t.TempDir(), mem)
	a := instance(t, p, "0_0")
	s := store(t, a, "counts", 0) // N = 2: 8 MiB
	b := instance(t, p, "0_1")
	for i := range int32(70) {
		store(t, b, "counts", i)
	}
	wbs := p.WriteBufferSize()
	if wbs > 256<<10 {
		t.Fatalf("write_buffer_size %d: the test needs it below 256 KiB", wbs)
	}
	for _, db := range []*DB{a, b} {
		for cf, got := range latestOptions(t, db.Dir(), "arena_block_size") {
			if want := arenaBlockSize(wbs); got != want {
				t.Errorf("instance %s column family %q: arena_block_size %d, want %d for write_buffer_size %d", db.Name(), cf, got, want, wbs)
			}
		}
	}
	// New memtables of a's column families (after each flush) are built
	// under the shrunk size.
	for i := range 3 {
		if err := s.Put([]byte{byte(i)}, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}
