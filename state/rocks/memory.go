package rocks

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/linxGnu/grocksdb"
)

// This file is the memory budget (see "Memory model" in the package doc): the
// Memory type and its split, the shared block cache and per-instance options, the
// write-buffer rule applied across a pool's column families, and usage reports.

// DefaultBudget is the total state budget OpenPool assumes for a zero Memory field.
const DefaultBudget int64 = 256 << 20

const (
	minWriteBufferSize = 64 << 10
	maxWriteBufferSize = 64 << 20
	maxWriteBuffers    = 2

	// minTotalWalSize is the floor of an instance's max_total_wal_size.
	minTotalWalSize = 1 << 20
)

// Memory sizes RocksDB's two process-wide memory pools (see the package doc).
type Memory struct {
	// BlockCache is the capacity in bytes of the LRU block cache shared by every
	// column family of every instance of a Pool, index and filter blocks included.
	BlockCache int64
	// WriteBuffers bounds in bytes the memtables of all column families of all
	// instances of a Pool together (through write_buffer_size, see WriteBufferSize).
	WriteBuffers int64
}

// ProcessFixed is the part of a whole-process budget no share can use: what
// the process holds whatever its load. Most of it is file-backed pages of
// code it has run, which count in its resident set: 46 MB of the click-count
// binary's RSS (its text and read-only data, librocksdb's) at every budget
// (/proc/PID/status RssFile), then the Go runtime's and RocksDB's threads. A
// budget gives up at most half of itself to it (FixedPart).
const ProcessFixed = 48 << 20

// FixedPart is the part of total set aside for ProcessFixed: at most half.
func FixedPart(total int64) int64 { return min(ProcessFixed, max(total, 0)/2) }

// SplitBudget gives RocksDB's pools and the typed write-back caches their shares
// of one whole-process budget in bytes (the runtime's --memory, see
// engine.SplitMemory for the rest). Of R = total − FixedPart(total): 3/16 to
// the block cache (data, index and filter blocks), 1/8 to RocksDB's write
// buffers and 1/8 (typedCacheBytes) to the typed write-back caches
// (state.Cache) in front of the stores. The rest of R is the Kafka clients'
// buffers, the rest of the Go heap and a reserve for what no pool counts
// (stacks, table readers, allocator overhead).
func SplitBudget(total int64) (mem Memory, typedCacheBytes int64) {
	r := max(total, 0) - FixedPart(total)
	mem = Memory{BlockCache: r / 16 * 3, WriteBuffers: r / 8}
	return mem, r / 8
}

// MinBudget is the smallest whole-process budget (split by SplitBudget) under
// which the pool still works: half of it is the process's fixed part, the
// write buffers get 2 MiB, the memtables of 8 task instances with one store
// each at their floor (MinWriteBuffers; more tasks are warned of), and the
// block cache 3 MiB. Smaller budgets would not bound memory, only slow it
// down.
const MinBudget = 32 << 20

// MinWriteBuffers is the write-buffer pool below which the memtables of
// columnFamilies column families no longer fit: each holds maxWriteBuffers (2)
// memtables of at least 64 KiB (WriteBufferSize's floor), so a task instance
// with one store (its store partition and its meta column family) needs 256 KiB.
// Below it the pool's bound is exceeded rather than enforced.
func MinWriteBuffers(columnFamilies int) int64 {
	return int64(max(columnFamilies, 1)) * maxWriteBuffers * minWriteBufferSize
}

// WriteBufferSize is the per-column-family memtable size (write_buffer_size) the
// sizing rule gives when the write-buffer pool is divided among columnFamilies column
// families: pool / (2 × columnFamilies) rounded down to a power of two, clamped to
// [64 KiB, 64 MiB]. With max_write_buffer_number = 2, columnFamilies × 2 × that size
// is at most pool unless the 64 KiB floor applies.
func WriteBufferSize(pool int64, columnFamilies int) int64 {
	target := pool / (int64(max(columnFamilies, 1)) * maxWriteBuffers)
	if target < minWriteBufferSize {
		return minWriteBufferSize
	}
	if target > maxWriteBufferSize {
		return maxWriteBufferSize
	}
	return int64(1) << (bits.Len64(uint64(target)) - 1)
}

func fillMemory(mem Memory) (Memory, error) {
	def, _ := SplitBudget(DefaultBudget)
	if mem.BlockCache == 0 {
		mem.BlockCache = def.BlockCache
	}
	if mem.WriteBuffers == 0 {
		mem.WriteBuffers = def.WriteBuffers
	}
	if mem.BlockCache < 0 || mem.WriteBuffers < 0 {
		return mem, fmt.Errorf("negative memory budget %+v", mem)
	}
	return mem, nil
}

// minCacheShard is the smallest shard of the block cache (but for a cache smaller
// than it, which is one shard). RocksDB's default splits a cache into up to 64
// shards (2 MiB each at 128 MiB), and a block larger than its shard is evicted
// as soon as it is released: the bloom filter of one large SST (about 3 MB at
// 2.5M keys) was then read again from disk on every lookup of a new key, and
// filling such a store slowed to about 2,000 records/s (bench/cluster, measured
// with perf). Filters and indexes are now partitioned (newTableOptions), so no
// block is that large, but shards of at least 16 MiB still keep one hot
// store's partitions from crowding out each other on a few small shards.
const minCacheShard = 16 << 20

// newBlockCache is the pool's LRU block cache of capacity bytes, with as many
// shards (a power of two, at most 64) as keep each at least minCacheShard.
func newBlockCache(capacity int64) *grocksdb.Cache {
	bits := 0
	for bits < 6 && capacity>>(bits+1) >= minCacheShard {
		bits++
	}
	o := grocksdb.NewLRUCacheOptions()
	defer o.Destroy()
	o.SetCapacity(uint(capacity))
	o.SetNumShardBits(bits)
	return grocksdb.NewLRUCacheWithOptions(o)
}

// newTableOptions are the block-based table options of every column family of
// a pool: everything a table reader reads goes through the shared cache, so the
// cache's capacity bounds it and nothing grows with the data outside it.
// Index and filter blocks are cached (charged to the cache, not held by the
// table reader), at high priority, and those of L0 files pinned (they are read
// on every lookup). They are partitioned (a two-level index, partitioned
// filters, 4 KiB partitions): a whole-file filter of a 10M-key store is about
// 12 MB, one block the cache must hold entirely or read again on each lookup,
// while partitions are loaded and evicted as the keys they cover are used.
// Only the small top-level index of each file stays pinned.
func newTableOptions(cache *grocksdb.Cache) *grocksdb.BlockBasedTableOptions {
	t := grocksdb.NewDefaultBlockBasedTableOptions()
	t.SetBlockCache(cache)
	t.SetFilterPolicy(grocksdb.NewBloomFilterFull(10))
	t.SetCacheIndexAndFilterBlocks(true)
	t.SetCacheIndexAndFilterBlocksWithHighPriority(true)
	t.SetPinL0FilterAndIndexBlocksInCache(true)
	t.SetIndexType(grocksdb.KTwoLevelIndexSearchIndexType)
	t.SetPartitionFilters(true)
	t.SetMetadataBlockSize(4 << 10)
	t.SetPinTopLevelIndexAndFilter(true)
	return t
}

// maxOpenFiles caps the table readers an instance keeps open (max_open_files):
// each holds a file descriptor and its properties and top-level index outside
// the block cache. A store of 10M keys has a few dozen files, so the cap costs
// nothing there and stops a large one from holding thousands.
const maxOpenFiles = 256

// dbOptions builds the options of one instance, the instances-th open one, whose
// column families start with write_buffer_size wbs.
func (p *Pool) dbOptions(instances int, wbs int64) *grocksdb.Options {
	n := int64(max(instances, 1))
	o := grocksdb.NewDefaultOptions()
	o.SetCreateIfMissing(true)
	o.SetCreateIfMissingColumnFamilies(true)
	o.SetBlockBasedTableFactory(p.bbto) // copies bbto, sharing the cache
	o.SetWriteBufferSize(uint64(wbs))
	o.SetArenaBlockSize(uint64(arenaBlockSize(wbs)))
	o.SetMaxWriteBufferNumber(maxWriteBuffers)
	o.SetMaxOpenFiles(maxOpenFiles)
	// Backstops, fixed at open (db_write_buffer_size cannot change on an open DB).
	o.SetDbWriteBufferSize(uint64(p.mem.WriteBuffers / n))
	o.SetMaxTotalWalSize(uint64(max(4*p.mem.WriteBuffers/n, minTotalWalSize)))
	o.SetKeepLogFileNum(3)
	o.SetMaxLogFileSize(4 << 20)
	return o
}

// Memory is the budget the pool was opened with (defaults filled in).
func (p *Pool) Memory() Memory { return p.mem }

// WriteBufferSize is the write_buffer_size every column family of every open
// instance has now.
func (p *Pool) WriteBufferSize() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wbs
}

// ColumnFamilies is N of the write-buffer rule: the column families of the open
// instances (their store partitions and one meta each).
func (p *Pool) ColumnFamilies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfs
}

// adjustLocked changes N by delta and, if the rule then gives a new write_buffer_size
// (a power of two, so only when N crosses one), sets it on every column family of
// every open instance. Every call that makes N grow does so before the column
// families exist, so that the others shrink first.
func (p *Pool) adjustLocked(delta int) error {
	p.cfs += delta
	wbs := WriteBufferSize(p.mem.WriteBuffers, p.cfs)
	if wbs == p.wbs {
		return nil
	}
	p.wbs = wbs
	var errs []error
	for _, d := range p.dbs {
		if err := d.applyWriteBufferSizeLocked(wbs); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Memory is the budget of the DB's pool (defaults filled in): all instances of the
// pool share it.
func (d *DB) Memory() Memory { return d.pool.mem }

// WriteBufferSize is the write_buffer_size every column family of the instance has
// now (the pool's, see Pool.WriteBufferSize).
func (d *DB) WriteBufferSize() int64 { return d.wbs.Load() }

// arenaBlockSize is the arena_block_size that goes with write_buffer_size
// wbs: RocksDB's own default, wbs/8 up to 1 MiB, which it derives only when a
// column family opens. It must follow every change of wbs: a memtable whose
// arena block is much larger than wbs (over 2.5×) wants a flush before it
// holds anything, which RocksDB asserts against when it builds the memtable.
func arenaBlockSize(wbs int64) int64 {
	return min(wbs/8, 1<<20)
}

// applyWriteBufferSizeLocked sets write_buffer_size on every column family and on the
// options new ones are created with. Called under pool.mu.
func (d *DB) applyWriteBufferSizeLocked(wbs int64) error {
	keys := []string{"write_buffer_size", "arena_block_size"}
	v := []string{strconv.FormatInt(wbs, 10), strconv.FormatInt(arenaBlockSize(wbs), 10)}
	for _, h := range d.handlesLocked() {
		if err := d.rdb.SetOptionsCF(h, keys, v); err != nil {
			return fmt.Errorf("instance %s: set write_buffer_size %d: %w", d.dir, wbs, err)
		}
	}
	d.opts.SetWriteBufferSize(uint64(wbs))
	d.opts.SetArenaBlockSize(uint64(arenaBlockSize(wbs)))
	d.wbs.Store(wbs)
	return nil
}

// MemoryUsage is what RocksDB reports holding in memory.
type MemoryUsage struct {
	// MemTables is the size of all memtables of all column families, flushed-pending
	// ones included (rocksdb.size-all-mem-tables summed over column families).
	MemTables uint64
	// CurMemTables is rocksdb.cur-size-all-mem-tables summed over column families:
	// the active and unflushed immutable memtables.
	CurMemTables uint64
	// BlockCache is the block cache's usage and BlockCachePinned the part of it that
	// is pinned (rocksdb.block-cache-usage, rocksdb.block-cache-pinned-usage).
	BlockCache, BlockCachePinned uint64
	// TableReaders is the memory of table readers outside the block cache
	// (rocksdb.estimate-table-readers-mem).
	TableReaders uint64
}

// MemoryUsage reports RocksDB's memory use summed over the open instances; the block
// cache is the one shared cache.
func (p *Pool) MemoryUsage() (MemoryUsage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return MemoryUsage{}, fmt.Errorf("rocks: memory usage: %w", ErrClosed)
	}
	// Instances in p.dbs are not released while p.mu is held (closeDB removes them
	// first), and their handles change only under p.mu.
	dbs := make([]*DB, 0, len(p.dbs))
	for _, d := range p.dbs {
		dbs = append(dbs, d)
	}
	return memoryUsage(dbs, p.cache)
}

// MemoryUsage reports RocksDB's memory use by this instance. BlockCache and
// BlockCachePinned are those of the pool's shared cache, used by every instance.
func (d *DB) MemoryUsage() (MemoryUsage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return MemoryUsage{}, fmt.Errorf("rocks: memory usage: %w", ErrClosed)
	}
	return memoryUsage([]*DB{d}, d.pool.cache)
}

func memoryUsage(dbs []*DB, cache *grocksdb.Cache) (MemoryUsage, error) {
	rdbs := make([]*grocksdb.DB, len(dbs))
	for i, d := range dbs {
		rdbs[i] = d.rdb
	}
	m := MemoryUsage{BlockCache: cache.GetUsage(), BlockCachePinned: cache.GetPinnedUsage()}
	if len(rdbs) == 0 {
		return m, nil
	}
	u, err := grocksdb.GetApproximateMemoryUsageByType(rdbs, nil)
	if err != nil {
		return MemoryUsage{}, fmt.Errorf("rocks: memory usage: %w", err)
	}
	m.MemTables, m.TableReaders = u.MemTableTotal, u.MemTableReadersTotal
	for _, d := range dbs {
		for _, h := range d.handlesLocked() {
			if v, ok := d.rdb.GetIntPropertyCF("rocksdb.cur-size-all-mem-tables", h); ok {
				m.CurMemTables += v
			}
		}
	}
	return m, nil
}
