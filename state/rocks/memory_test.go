package rocks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTablesChargeTheCache checks what keeps RocksDB's memory outside the
// block cache from growing with the data: the options every instance is
// opened with (read back from the OPTIONS file RocksDB writes, so what RocksDB
// applied, not what was asked for) partition index and filter blocks and
// cache them, and cap the open table readers; then, on a flushed store of
// 100,000 keys, present and absent keys read right through the partitioned
// filters, the cache holds the blocks read, and the table readers hold less
// than the store's whole filter (10 bits a key) would take.
func TestTablesChargeTheCache(t *testing.T) {
	const keys = 100_000
	dir := t.TempDir()
	db := open(t, dir, Memory{BlockCache: 8 << 20, WriteBuffers: 4 << 20})
	s := store(t, db, "counts", 0)
	b := s.NewBatch()
	defer b.Close()
	for i := range keys {
		b.Put([]byte(fmt.Sprintf("user-%07d", 2*i)), []byte("1"))
	}
	if err := b.Write(); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	opts := optionsFile(t, dir)
	for _, want := range []string{"index_type=kTwoLevelIndexSearch", "partition_filters=true", "metadata_block_size=4096",
		"cache_index_and_filter_blocks=true", "pin_top_level_index_and_filter=true", "pin_l0_filter_and_index_blocks_in_cache=true",
		fmt.Sprintf("max_open_files=%d", maxOpenFiles)} {
		if !strings.Contains(opts, want) {
			t.Errorf("the instance's OPTIONS file lacks %s", want)
		}
	}
	for i := 0; i < 2*keys; i += 997 {
		v, ok, err := s.Get([]byte(fmt.Sprintf("user-%07d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if present := i%2 == 0; ok != present || (ok && string(v) != "1") {
			t.Fatalf("Get(user-%07d) = %q, %v; want present %v", i, v, ok, present)
		}
	}
	u, err := db.MemoryUsage()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d keys flushed and read: %+v", keys, u)
	if u.BlockCache == 0 {
		t.Error("the block cache holds nothing after reads from a flushed store")
	}
	if filter := uint64(keys * 10 / 8); u.TableReaders >= filter {
		t.Errorf("table readers hold %d bytes outside the cache, at least the whole filter (%d)", u.TableReaders, filter)
	}
}

// optionsFile is the newest OPTIONS file under dir.
func optionsFile(t *testing.T, dir string) string {
	t.Helper()
	var newest string
	filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(filepath.Base(path), "OPTIONS-") && path > newest {
			newest = path
		}
		return nil
	})
	if newest == "" {
		t.Fatalf("no OPTIONS file under %s", dir)
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
