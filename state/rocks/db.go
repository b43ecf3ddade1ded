package rocks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/linxGnu/grocksdb"
)

// DefaultBudget is the total state budget OpenPool (and Open) assume for a zero
// Memory field.
const DefaultBudget int64 = 256 << 20

const (
	metaCF       = "meta"
	defaultCF    = "default"
	storePrefix  = "store/"
	offsetPrefix = "offset/"

	minWriteBufferSize = 64 << 10
	maxWriteBufferSize = 64 << 20
	maxWriteBuffers    = 2
)

// ErrClosed is returned by calls on a closed DB, on its Stores and on a closed Pool.
var ErrClosed = errors.New("rocks: db closed")

// ErrDropped is returned by calls on a Store whose partition was dropped.
var ErrDropped = errors.New("rocks: store dropped")

// Memory sizes RocksDB's two process-wide memory pools (see the package doc).
type Memory struct {
	// BlockCache is the capacity in bytes of the LRU block cache shared by every
	// column family of every instance of a Pool, index and filter blocks included.
	BlockCache int64
	// WriteBuffers bounds in bytes the memtables of all column families of all
	// instances of a Pool together (through write_buffer_size, see WriteBufferSize).
	WriteBuffers int64
}

// SplitBudget divides one total state budget in bytes: half to the block cache, a
// quarter to RocksDB's write buffers, and the rest (typedCacheBytes, about a quarter)
// to the typed write-back caches (state.Cache) in front of the stores.
func SplitBudget(total int64) (mem Memory, typedCacheBytes int64) {
	if total < 0 {
		total = 0
	}
	mem = Memory{BlockCache: total / 2, WriteBuffers: total / 4}
	return mem, total - mem.BlockCache - mem.WriteBuffers
}

// MinBudget is the smallest total budget (split by SplitBudget) under which the
// pool still works as designed. The block cache gets half, and below one shard
// of minCacheShard (16 MiB) the filter and index blocks of a large SST file are
// evicted as soon as they are read, so every lookup of a new key goes to disk
// (see minCacheShard). The write buffers get a quarter, 8 MiB at the minimum:
// the memtables of 32 task instances with one store each at their floor
// (MinWriteBuffers). Smaller budgets would not bound memory, only slow it down.
const MinBudget = 2 * minCacheShard

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

// StorePartition names one partition of one store.
type StorePartition struct {
	Store     string
	Partition int32
}

func (sp StorePartition) String() string {
	return fmt.Sprintf("store %q partition %d", sp.Store, sp.Partition)
}

func (sp StorePartition) cfName() string {
	return storePrefix + sp.Store + "/" + strconv.FormatInt(int64(sp.Partition), 10)
}

func (sp StorePartition) offsetKey() []byte {
	return []byte(offsetPrefix + sp.Store + "/" + strconv.FormatInt(int64(sp.Partition), 10))
}

// parseOffsetKey returns the store partition of a meta key made by offsetKey.
func parseOffsetKey(key []byte) (StorePartition, bool) {
	rest, ok := strings.CutPrefix(string(key), offsetPrefix)
	if !ok {
		return StorePartition{}, false
	}
	return parseStorePartition(rest)
}

func (sp StorePartition) validate() error {
	if sp.Store == "" {
		return fmt.Errorf("rocks: %v: empty store name", sp)
	}
	if sp.Partition < 0 {
		return fmt.Errorf("rocks: %v: negative partition", sp)
	}
	return nil
}

// parseCF returns the store partition of a column family name made by cfName.
func parseCF(name string) (StorePartition, bool) {
	rest, ok := strings.CutPrefix(name, storePrefix)
	if !ok {
		return StorePartition{}, false
	}
	return parseStorePartition(rest)
}

// parseStorePartition parses <store>/<partition>; the store name may hold slashes.
func parseStorePartition(rest string) (StorePartition, bool) {
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return StorePartition{}, false
	}
	p, err := strconv.ParseInt(rest[i+1:], 10, 32)
	if err != nil || p < 0 {
		return StorePartition{}, false
	}
	return StorePartition{Store: rest[:i], Partition: int32(p)}, true
}

// DB is one RocksDB instance of a Pool: the store partitions of one task, each a
// column family, and a meta column family with their changelog offsets. Its methods
// are safe for concurrent use.
type DB struct {
	pool     *Pool
	name     string
	dir      string
	ownsPool bool // opened by the deprecated Open: Close closes the pool too

	opts *grocksdb.Options // DB options and the options of every column family; used under pool.mu once open
	wo   *grocksdb.WriteOptions
	ro   *grocksdb.ReadOptions
	fo   *grocksdb.FlushOptions

	wbs atomic.Int64 // write_buffer_size of every column family now; written under pool.mu

	// mu guards the fields below and the DB's lifecycle. The set of column families
	// (families, other) changes only under both pool.mu and mu, so holding either is
	// enough to read it; pool.mu is always taken first.
	mu       sync.Mutex
	rdb      *grocksdb.DB
	def      *grocksdb.ColumnFamilyHandle
	meta     *family // the meta column family; its calls do not hold mu
	families map[StorePartition]*family
	other    []*grocksdb.ColumnFamilyHandle // column families this package does not know
	closed   bool
}

// Open opens (creating if needed) the RocksDB instance in dir with every existing
// column family, as the only instance of a private pool sized by mem.
//
// Deprecated: use OpenPool and Pool.Open, which put one instance per task under one
// memory budget. Open stays until its last callers move.
func Open(dir string, mem Memory) (*DB, error) {
	mem, err := fillMemory(mem)
	if err != nil {
		return nil, fmt.Errorf("rocks: open %s: %w", dir, err)
	}
	p := newPool("", mem)
	d, err := p.open(dir, dir)
	if err != nil {
		p.Close()
		return nil, err
	}
	d.ownsPool = true
	return d, nil
}

func (d *DB) destroyOptions() {
	d.opts.Destroy()
	d.wo.Destroy()
	d.ro.Destroy()
	d.fo.Destroy()
}

// applyWriteBufferSizeLocked sets write_buffer_size on every column family and on the
// options new ones are created with. Called under pool.mu.
func (d *DB) applyWriteBufferSizeLocked(wbs int64) error {
	v := []string{strconv.FormatInt(wbs, 10)}
	for _, h := range d.handlesLocked() {
		if err := d.rdb.SetOptionsCF(h, []string{"write_buffer_size"}, v); err != nil {
			return fmt.Errorf("instance %s: set write_buffer_size %d: %w", d.dir, wbs, err)
		}
	}
	d.opts.SetWriteBufferSize(uint64(wbs))
	d.wbs.Store(wbs)
	return nil
}

// Memory is the budget of the DB's pool (defaults filled in): all instances of the
// pool share it.
func (d *DB) Memory() Memory { return d.pool.mem }

// Dir is the directory of the instance.
func (d *DB) Dir() string { return d.dir }

// Name is the instance's name in its pool.
func (d *DB) Name() string { return d.name }

// Store returns the Backend for partition of store name, creating its column family
// store/<name>/<partition> if needed (which counts in the pool's N). Every call
// returns a new *Store (each has its own read buffer) over the same column family.
func (d *DB) Store(name string, partition int32) (*Store, error) {
	sp := StorePartition{name, partition}
	if err := sp.validate(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, fmt.Errorf("rocks: %v: %w", sp, ErrClosed)
	}
	if f, ok := d.families[sp]; ok {
		d.mu.Unlock()
		return &Store{db: d, f: f}, nil
	}
	d.mu.Unlock()

	// Creating a column family changes N: take the pool's lock first.
	p := d.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("rocks: %v: %w", sp, ErrClosed)
	}
	f, ok := d.families[sp]
	if !ok {
		if err := p.adjustLocked(1); err != nil {
			p.adjustLocked(-1)
			return nil, fmt.Errorf("rocks: %v: %w", sp, err)
		}
		h, err := d.rdb.CreateColumnFamily(d.opts, sp.cfName())
		if err != nil {
			p.adjustLocked(-1)
			return nil, fmt.Errorf("rocks: %v: create column family: %w", sp, err)
		}
		f = &family{sp: sp, handle: h}
		d.families[sp] = f
	}
	return &Store{db: d, f: f}, nil
}

// Stores lists the store partitions that have a column family, in order.
func (d *DB) Stores() []StorePartition {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]StorePartition, 0, len(d.families))
	for sp := range d.families {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Store != out[j].Store {
			return out[i].Store < out[j].Store
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// ChangelogOffset returns the changelog offset recorded for a store partition by
// SetChangelogOffsets; ok is false when none is recorded.
func (d *DB) ChangelogOffset(store string, partition int32) (offset int64, ok bool, err error) {
	sp := StorePartition{store, partition}
	if err := d.meta.acquire(); err != nil {
		return 0, false, fmt.Errorf("rocks: %v: changelog offset: %w", sp, err)
	}
	defer d.meta.release()
	h, err := d.rdb.GetPinnedCF(d.ro, d.meta.handle, sp.offsetKey())
	if err != nil {
		return 0, false, fmt.Errorf("rocks: %v: changelog offset: %w", sp, err)
	}
	if !h.Exists() {
		return 0, false, nil
	}
	defer h.Destroy()
	v := h.Data()
	if len(v) != 8 {
		return 0, false, fmt.Errorf("rocks: %v: changelog offset: stored value has %d bytes, want 8", sp, len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), true, nil
}

// SetChangelogOffsets records the changelog offsets of several store partitions in
// one atomic write: after a crash either all of them are recovered or none.
func (d *DB) SetChangelogOffsets(offsets map[StorePartition]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	for sp := range offsets {
		if err := sp.validate(); err != nil {
			return err
		}
	}
	if err := d.meta.acquire(); err != nil {
		return fmt.Errorf("rocks: set changelog offsets of %d store partitions: %w", len(offsets), err)
	}
	defer d.meta.release()
	wb := grocksdb.NewWriteBatch()
	defer wb.Destroy()
	var v [8]byte
	for sp, off := range offsets {
		binary.BigEndian.PutUint64(v[:], uint64(off))
		wb.PutCF(d.meta.handle, sp.offsetKey(), v[:]) // copied into the batch
	}
	if err := d.rdb.Write(d.wo, wb); err != nil {
		return fmt.Errorf("rocks: set changelog offsets of %d store partitions: %w", len(offsets), err)
	}
	return nil
}

// DropStore deletes a store partition's data (its column family) and its recorded
// changelog offset, for local state that is invalid and must be rebuilt from the
// changelog. Stores obtained earlier for it fail with ErrDropped from then on; the
// next DB.Store call creates an empty column family. The offset is deleted first, so
// a crash in between leaves data without an offset, which callers treat as invalid.
func (d *DB) DropStore(name string, partition int32) error {
	sp := StorePartition{name, partition}
	p := d.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("rocks: %v: drop: %w", sp, ErrClosed)
	}
	if err := d.rdb.DeleteCF(d.wo, d.meta.handle, sp.offsetKey()); err != nil {
		return fmt.Errorf("rocks: %v: drop: delete changelog offset: %w", sp, err)
	}
	f, ok := d.families[sp]
	if !ok {
		return nil
	}
	h := f.shutdown(ErrDropped)
	delete(d.families, sp)
	err := d.rdb.DropColumnFamily(h)
	h.Destroy()
	if err != nil {
		return fmt.Errorf("rocks: %v: drop column family: %w", sp, err)
	}
	if err := p.adjustLocked(-1); err != nil {
		return fmt.Errorf("rocks: %v: drop: %w", sp, err)
	}
	return nil
}

// WriteBufferSize is the write_buffer_size every column family of the instance has
// now (the pool's, see Pool.WriteBufferSize).
func (d *DB) WriteBufferSize() int64 { return d.wbs.Load() }

// Flush writes every column family's memtable to SST files and waits for it.
func (d *DB) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("rocks: flush: %w", ErrClosed)
	}
	if err := d.rdb.FlushCF(d.meta.handle, d.fo); err != nil {
		return fmt.Errorf("rocks: flush meta: %w", err)
	}
	for sp, f := range d.families {
		if err := d.rdb.FlushCF(f.handle, d.fo); err != nil {
			return fmt.Errorf("rocks: %v: flush: %w", sp, err)
		}
	}
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

// IntProperty returns an integer RocksDB property (for example
// rocksdb.block-cache-usage) of the default column family, or of a store
// partition's column family when sp is not nil.
func (d *DB) IntProperty(name string, sp *StorePartition) (uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, false
	}
	if sp == nil {
		return d.rdb.GetIntProperty(name)
	}
	f, ok := d.families[*sp]
	if !ok {
		return 0, false
	}
	return d.rdb.GetIntPropertyCF(name, f.handle)
}

func (d *DB) handlesLocked() []*grocksdb.ColumnFamilyHandle {
	hs := []*grocksdb.ColumnFamilyHandle{d.def, d.meta.handle}
	for _, f := range d.families {
		hs = append(hs, f.handle)
	}
	return append(hs, d.other...)
}

// Close waits for calls in flight on the DB's Stores, then closes the column family
// handles, the instance and its options, and gives its column families back to the
// pool's N (the other instances' write buffers may grow). A DB from the deprecated
// Open also closes its private pool. Calling Close again does nothing.
func (d *DB) Close() error {
	d.pool.closeDB(d)
	if d.ownsPool {
		return d.pool.Close()
	}
	return nil
}

// release shuts down the families and frees the RocksDB objects of a DB already
// marked closed and no longer in its pool's map.
func (d *DB) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.families {
		f.shutdown(ErrClosed)
	}
	d.meta.shutdown(ErrClosed)
	for _, h := range d.handlesLocked() {
		h.Destroy()
	}
	d.families, d.other, d.def = nil, nil, nil
	d.rdb.Close()
	d.rdb = nil
	d.destroyOptions()
}
