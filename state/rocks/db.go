package rocks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/linxGnu/grocksdb"
)

const (
	metaCF       = "meta"
	defaultCF    = "default"
	storePrefix  = "store/"
	offsetPrefix = "offset/"
)

// ErrClosed is returned by calls on a closed DB, on its Stores and on a closed Pool.
var ErrClosed = errors.New("rocks: db closed")

// ErrDropped is returned by calls on a Store whose partition was dropped.
var ErrDropped = errors.New("rocks: store dropped")

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
	pool *Pool
	name string
	dir  string

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

func (d *DB) destroyOptions() {
	d.opts.Destroy()
	d.wo.Destroy()
	d.ro.Destroy()
	d.fo.Destroy()
}

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
// pool's N (the other instances' write buffers may grow). Calling Close again does
// nothing.
func (d *DB) Close() error {
	d.pool.closeDB(d)
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
