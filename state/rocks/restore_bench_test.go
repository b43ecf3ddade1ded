package rocks

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The restore benchmarks compare the two ways a task's state comes back on a new
// replica: opening a checkpoint put in place with Install, or writing every key again
// (what replaying a changelog from the beginning does to RocksDB). Both use the
// default budget and restoreKeys keys of restoreValue bytes.
const (
	restoreKeys  = 1_000_000
	restoreValue = 64
)

var benchMem, _ = SplitBudget(DefaultBudget)

// fixture is a checkpoint of an instance holding restoreKeys keys, built once per
// test binary under os.TempDir and removed by TestMain.
var fixture struct {
	once sync.Once
	root string
	dir  string
	info CheckpointInfo
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.root != "" {
		os.RemoveAll(fixture.root)
	}
	os.Exit(code)
}

func restoreKey(buf []byte, i int) []byte { return fmt.Appendf(buf[:0], "key-%010d", i) }

func restoreVal(buf []byte, i int) []byte {
	buf = append(buf[:0], bytes.Repeat([]byte{'v'}, restoreValue)...)
	binary.BigEndian.PutUint64(buf, uint64(i))
	return buf
}

// writeKeys writes keys [0, n) to s with Put, one at a time.
func writeKeys(s *Store, n int) error {
	var k, v []byte
	for i := 0; i < n; i++ {
		k, v = restoreKey(k, i), restoreVal(v, i)
		if err := s.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

func restoreFixture(b *testing.B) CheckpointInfo {
	b.Helper()
	fixture.once.Do(func() {
		fixture.root, fixture.err = os.MkdirTemp("", "rocks-restore-fixture-")
		if fixture.err != nil {
			return
		}
		p, err := OpenPool(filepath.Join(fixture.root, "pool"), benchMem)
		if err != nil {
			fixture.err = err
			return
		}
		defer p.Close()
		db, err := p.Open("0_0")
		if err != nil {
			fixture.err = err
			return
		}
		s, err := db.Store("counts", 0)
		if err == nil {
			err = writeKeys(s, restoreKeys)
		}
		if err == nil {
			err = db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 0}: restoreKeys})
		}
		if err == nil {
			fixture.dir = filepath.Join(fixture.root, "checkpoint")
			fixture.info, err = db.Checkpoint(fixture.dir)
		}
		fixture.err = err
	})
	if fixture.err != nil {
		b.Fatalf("building the %d-key checkpoint: %v", restoreKeys, fixture.err)
	}
	return fixture.info
}

// stage puts a copy of the checkpoint at dst as a finished download would: SST files
// hard-linked (immutable, and RocksDB only ever unlinks them), the others copied.
func stage(b *testing.B, info CheckpointInfo, dst string) {
	b.Helper()
	if err := os.Mkdir(dst, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, f := range info.Files {
		src, to := filepath.Join(info.Dir, f.Name), filepath.Join(dst, f.Name)
		if f.Kind == FileSST {
			if err := os.Link(src, to); err != nil {
				b.Fatal(err)
			}
			continue
		}
		in, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(to)
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func checkRestored(b *testing.B, db *DB) {
	b.Helper()
	s, err := db.Store("counts", 0)
	if err != nil {
		b.Fatal(err)
	}
	last := restoreKeys - 1
	v, ok, err := s.Get(restoreKey(nil, last))
	if err != nil || !ok || !bytes.Equal(v, restoreVal(nil, last)) {
		b.Fatalf("restored instance: last key %x, %v, %v", v, ok, err)
	}
}

// BenchmarkRestoreFromCheckpoint measures Install + Open of a downloaded 1M-key
// checkpoint, until the first Get: the local part of a restore from a snapshot.
func BenchmarkRestoreFromCheckpoint(b *testing.B) {
	info := restoreFixture(b)
	p := openPool(b, b.TempDir(), benchMem)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dl := filepath.Join(p.StagingDir(), fmt.Sprint("download-", i))
		stage(b, info, dl)
		b.StartTimer()

		if err := p.Install("0_0", dl); err != nil {
			b.Fatal(err)
		}
		db, err := p.Open("0_0")
		if err != nil {
			b.Fatal(err)
		}
		checkRestored(b, db)

		b.StopTimer()
		if off, ok, err := db.ChangelogOffset("counts", 0); err != nil || !ok || off != restoreKeys {
			b.Fatalf("restored offset %d, %v, %v", off, ok, err)
		}
		db.Close()
		b.StartTimer()
	}
	var size int64
	for _, f := range info.Files {
		size += f.Size
	}
	b.ReportMetric(float64(size), "checkpoint-bytes")
}

// BenchmarkRestoreByPuts measures writing the same 1M keys into an empty instance,
// until the first Get: the RocksDB side of a restore that replays a whole changelog
// (without the fetching).
func BenchmarkRestoreByPuts(b *testing.B) {
	p := openPool(b, b.TempDir(), benchMem)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := p.Remove("0_0"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		db, err := p.Open("0_0")
		if err != nil {
			b.Fatal(err)
		}
		s, err := db.Store("counts", 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := writeKeys(s, restoreKeys); err != nil {
			b.Fatal(err)
		}
		if err := db.SetChangelogOffsets(map[StorePartition]int64{{"counts", 0}: restoreKeys}); err != nil {
			b.Fatal(err)
		}
		checkRestored(b, db)

		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkVerifyCheckpoint measures VerifyCheckpoint (read-only open and a full scan
// with checksums) of the 1M-key checkpoint.
func BenchmarkVerifyCheckpoint(b *testing.B) {
	info := restoreFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyCheckpoint(info.Dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadCheckpointOffsets measures the read-only open DB.Checkpoint does to
// read the offsets back from the copy, on the 1M-key checkpoint.
func BenchmarkReadCheckpointOffsets(b *testing.B) {
	info := restoreFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		offs, err := ReadCheckpointOffsets(info.Dir)
		if err != nil || offs[StorePartition{"counts", 0}] != restoreKeys {
			b.Fatal(offs, err)
		}
	}
}

// BenchmarkCheckpoint measures DB.Checkpoint of the 1M-key instance after 1000 new
// writes: flush, hard links, the read-only open for the offsets, the file list.
func BenchmarkCheckpoint(b *testing.B) {
	info := restoreFixture(b)
	p := openPool(b, b.TempDir(), benchMem)
	dl := filepath.Join(p.StagingDir(), "download")
	stage(b, info, dl)
	if err := p.Install("0_0", dl); err != nil {
		b.Fatal(err)
	}
	db := instance(b, p, "0_0")
	s := store(b, db, "counts", 0)
	val := []byte(strings.Repeat("w", restoreValue))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < 1000; j++ {
			if err := s.Put(restoreKey(nil, (i*1000+j)*7919%restoreKeys), val); err != nil {
				b.Fatal(err)
			}
		}
		dir := filepath.Join(p.StagingDir(), fmt.Sprint("cp-", i))
		b.StartTimer()
		if _, err := db.Checkpoint(dir); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}
