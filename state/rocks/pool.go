package rocks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"github.com/linxGnu/grocksdb"
)

const (
	lockFile   = ".lock"    // flock'd by the Pool that owns the directory
	stagingDir = ".staging" // where callers build directories to Install; emptied by OpenPool
	maxName    = 200

	// minTotalWalSize is the floor of an instance's max_total_wal_size.
	minTotalWalSize = 1 << 20
)

// ErrInstanceOpen is returned by Pool.Open for an instance that is already open and
// by Pool.Remove and Pool.Install, which need the instance closed.
var ErrInstanceOpen = errors.New("rocks: instance is open")

// Pool is the process-wide owner of RocksDB memory: a directory of instances (one per
// task), the one LRU block cache and block-based table options they all share, and
// the write-buffer rule applied across all of their column families (see the package
// doc). Its methods are safe for concurrent use.
type Pool struct {
	dir  string // "" for the private pool of the deprecated Open
	mem  Memory
	lock *os.File // flock'd lockFile; nil for a private pool

	cache *grocksdb.Cache
	bbto  *grocksdb.BlockBasedTableOptions

	mu      sync.Mutex
	cond    *sync.Cond      // signalled when a name stops being busy
	dbs     map[string]*DB  // open instances by name
	busy    map[string]bool // names being opened, closed, installed or removed
	opening int             // instances being opened (counted for db_write_buffer_size)
	cfs     int             // column families counted in N: open ones and those being opened
	wbs     int64           // write_buffer_size of every column family now
	trash   int             // sequence for names of directories being deleted
	closed  bool
}

// OpenPool opens the pool of instances in dir (creating dir if needed), with mem as
// the budget of all of them together; a zero Memory field takes its share of
// SplitBudget(DefaultBudget). It takes an exclusive flock on dir/.lock, so a second
// Pool on the same directory, in this process or another, fails. It empties
// StagingDir, which holds only leftovers of an earlier process.
func OpenPool(dir string, mem Memory) (*Pool, error) {
	if dir == "" {
		return nil, errors.New("rocks: open pool: empty directory")
	}
	mem, err := fillMemory(mem)
	if err != nil {
		return nil, fmt.Errorf("rocks: open pool %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("rocks: open pool %s: %w", dir, err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rocks: open pool %s: lock file: %w", dir, err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("rocks: open pool %s: the directory is in use by another pool (flock on %s held)", dir, lockFile)
		}
		return nil, fmt.Errorf("rocks: open pool %s: flock %s: %w", dir, lockFile, err)
	}
	staging := filepath.Join(dir, stagingDir)
	if err := os.RemoveAll(staging); err != nil {
		lf.Close()
		return nil, fmt.Errorf("rocks: open pool %s: empty staging directory: %w", dir, err)
	}
	if err := os.Mkdir(staging, 0o755); err != nil {
		lf.Close()
		return nil, fmt.Errorf("rocks: open pool %s: staging directory: %w", dir, err)
	}
	p := newPool(dir, mem)
	p.lock = lf
	return p, nil
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

func newPool(dir string, mem Memory) *Pool {
	p := &Pool{dir: dir, mem: mem, dbs: map[string]*DB{}, busy: map[string]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wbs = WriteBufferSize(mem.WriteBuffers, 0)
	p.cache = newBlockCache(mem.BlockCache)
	p.bbto = grocksdb.NewDefaultBlockBasedTableOptions()
	p.bbto.SetBlockCache(p.cache)
	p.bbto.SetFilterPolicy(grocksdb.NewBloomFilterFull(10))
	p.bbto.SetCacheIndexAndFilterBlocks(true)
	p.bbto.SetCacheIndexAndFilterBlocksWithHighPriority(true)
	p.bbto.SetPinL0FilterAndIndexBlocksInCache(true)
	return p
}

// minCacheShard is the smallest shard of the block cache. RocksDB's default
// splits a cache into up to 64 shards (2 MiB each at 128 MiB), and a block
// larger than its shard is evicted as soon as it is released: the bloom filter
// of one large SST (about 3 MB at 2.5M keys) was then read again from disk on
// every lookup of a new key, and filling such a store slowed to about 2,000
// records/s (bench/cluster, measured with perf). Shards of at least 16 MiB keep
// filters of stores up to about 13M keys per file.
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

// dbOptions builds the options of one instance, the instances-th open one, whose
// column families start with write_buffer_size wbs.
func (p *Pool) dbOptions(instances int, wbs int64) *grocksdb.Options {
	n := int64(max(instances, 1))
	o := grocksdb.NewDefaultOptions()
	o.SetCreateIfMissing(true)
	o.SetCreateIfMissingColumnFamilies(true)
	o.SetBlockBasedTableFactory(p.bbto) // copies bbto, sharing the cache
	o.SetWriteBufferSize(uint64(wbs))
	o.SetMaxWriteBufferNumber(maxWriteBuffers)
	// Backstops, fixed at open (db_write_buffer_size cannot change on an open DB).
	o.SetDbWriteBufferSize(uint64(p.mem.WriteBuffers / n))
	o.SetMaxTotalWalSize(uint64(max(4*p.mem.WriteBuffers/n, minTotalWalSize)))
	o.SetKeepLogFileNum(3)
	o.SetMaxLogFileSize(4 << 20)
	return o
}

// Memory is the budget the pool was opened with (defaults filled in).
func (p *Pool) Memory() Memory { return p.mem }

// Dir is the pool's directory.
func (p *Pool) Dir() string { return p.dir }

// StagingDir is a directory inside the pool's directory, hence on the same file
// system, where callers build (download) the directories they pass to Install, which
// renames them. OpenPool empties it.
func (p *Pool) StagingDir() string { return filepath.Join(p.dir, stagingDir) }

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

// validName checks an instance name: [A-Za-z0-9._-]+, not starting with a dot (names
// starting with a dot are the pool's own files).
func validName(name string) error {
	if name == "" {
		return errors.New("rocks: empty instance name")
	}
	if len(name) > maxName {
		return fmt.Errorf("rocks: instance name %.20q... longer than %d bytes", name, maxName)
	}
	if name[0] == '.' {
		return fmt.Errorf("rocks: instance name %q starts with a dot", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("rocks: instance name %q: byte %q is not one of [A-Za-z0-9._-]", name, c)
		}
	}
	return nil
}

func (p *Pool) checkPublic(op, name string) error {
	if p.dir == "" {
		return fmt.Errorf("rocks: %s %q: not a pool opened with OpenPool", op, name)
	}
	if err := validName(name); err != nil {
		return fmt.Errorf("rocks: %s: %w", op, err)
	}
	return nil
}

// Open opens the instance name (for example "0_3": sub-topology 0, partition 3),
// creating dir/name if it does not exist, with every column family it has. It fails
// with ErrInstanceOpen if the instance is open already; if it is being closed,
// installed or removed by another goroutine, Open waits for that first.
func (p *Pool) Open(name string) (*DB, error) {
	if err := p.checkPublic("open instance", name); err != nil {
		return nil, err
	}
	return p.open(name, filepath.Join(p.dir, name))
}

// acquireLocked waits until name is not busy and marks it busy. It fails if the
// pool is closed or (when mustBeClosed) the instance is open.
func (p *Pool) acquireLocked(name string) error {
	for p.busy[name] && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		return ErrClosed
	}
	if _, ok := p.dbs[name]; ok {
		return ErrInstanceOpen
	}
	p.busy[name] = true
	return nil
}

func (p *Pool) releaseLocked(name string) {
	delete(p.busy, name)
	p.cond.Broadcast()
}

func (p *Pool) open(name, dir string) (db *DB, err error) {
	wrap := func(err error) error { return fmt.Errorf("rocks: open instance %s: %w", dir, err) }
	p.mu.Lock()
	if err := p.acquireLocked(name); err != nil {
		p.mu.Unlock()
		return nil, wrap(err)
	}
	p.opening++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.opening--
		p.releaseLocked(name)
		p.mu.Unlock()
	}()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, wrap(err)
	}
	names := []string{defaultCF, metaCF}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err == nil {
		lo := grocksdb.NewDefaultOptions()
		existing, err := grocksdb.ListColumnFamilies(lo, dir)
		lo.Destroy()
		if err != nil {
			return nil, wrap(fmt.Errorf("list column families: %w", err))
		}
		for _, n := range existing {
			if n != defaultCF && n != metaCF {
				names = append(names, n)
			}
		}
	}
	// names[0], default, is never written; meta and the stores share the pool.
	counted := len(names) - 1

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, wrap(ErrClosed)
	}
	if err := p.adjustLocked(counted); err != nil {
		p.adjustLocked(-counted)
		p.mu.Unlock()
		return nil, wrap(err)
	}
	wbs := p.wbs
	opts := p.dbOptions(len(p.dbs)+p.opening, wbs)
	p.mu.Unlock()

	d := &DB{pool: p, name: name, dir: dir, opts: opts, families: map[StorePartition]*family{}}
	d.wbs.Store(wbs)
	d.wo = grocksdb.NewDefaultWriteOptions() // WAL on, no sync per write
	d.ro = grocksdb.NewDefaultReadOptions()
	d.fo = grocksdb.NewDefaultFlushOptions()
	d.fo.SetWait(true)
	cfOpts := make([]*grocksdb.Options, len(names))
	for i := range cfOpts {
		cfOpts[i] = opts
	}
	rdb, handles, err := grocksdb.OpenDbColumnFamilies(opts, dir, names, cfOpts)
	if err != nil {
		d.destroyOptions()
		p.mu.Lock()
		p.adjustLocked(-counted)
		p.mu.Unlock()
		return nil, wrap(err)
	}
	d.rdb, d.def, d.meta = rdb, handles[0], &family{handle: handles[1]}
	for i, n := range names[2:] {
		h := handles[i+2]
		if sp, ok := parseCF(n); ok {
			d.families[sp] = &family{sp: sp, handle: h}
		} else {
			d.other = append(d.other, h)
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		d.closed = true
		d.release()
		p.adjustLocked(-counted)
		return nil, wrap(ErrClosed)
	}
	// Instances opened or closed meanwhile may have moved the size.
	if p.wbs != d.wbs.Load() {
		if err := d.applyWriteBufferSizeLocked(p.wbs); err != nil {
			d.closed = true
			d.release()
			p.adjustLocked(-counted)
			return nil, wrap(err)
		}
	}
	p.dbs[name] = d
	return d, nil
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

// closeDB closes an instance: it stops counting it at once, releases its RocksDB
// objects without holding p.mu, then gives its column families back to N.
func (p *Pool) closeDB(d *DB) {
	p.mu.Lock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		p.mu.Unlock()
		return
	}
	d.closed = true
	counted := 1 + len(d.families) + len(d.other)
	d.mu.Unlock()
	delete(p.dbs, d.name)
	p.busy[d.name] = true
	p.mu.Unlock()

	d.release()

	p.mu.Lock()
	p.adjustLocked(-counted) // errors only from instances still open; they keep a smaller size
	p.releaseLocked(d.name)
	p.mu.Unlock()
}

// Instances lists the instance directories in the pool's directory, open or not,
// sorted by name.
func (p *Pool) Instances() ([]string, error) {
	if p.dir == "" {
		return nil, errors.New("rocks: instances: not a pool opened with OpenPool")
	}
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("rocks: list instances in %s: %w", p.dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && validName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// trashLocked returns a new name in the staging directory for a directory about to
// be deleted.
func (p *Pool) trashLocked(name string) string {
	p.trash++
	return filepath.Join(p.StagingDir(), ".removed-"+name+"-"+strconv.Itoa(p.trash))
}

// Remove deletes the files of a closed instance; removing an instance that does not
// exist does nothing. The directory is first renamed out of the pool's directory
// (one atomic step), so a crash never leaves a half-deleted instance behind.
func (p *Pool) Remove(name string) error {
	if err := p.checkPublic("remove instance", name); err != nil {
		return err
	}
	wrap := func(err error) error { return fmt.Errorf("rocks: remove instance %q in %s: %w", name, p.dir, err) }
	p.mu.Lock()
	if err := p.acquireLocked(name); err != nil {
		p.mu.Unlock()
		return wrap(err)
	}
	trash := p.trashLocked(name)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.releaseLocked(name)
		p.mu.Unlock()
	}()

	target := filepath.Join(p.dir, name)
	if err := os.Rename(target, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return wrap(err)
	}
	if err := syncDir(p.dir); err != nil {
		return wrap(err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return wrap(err)
	}
	return nil
}

// Install replaces the closed instance name with the directory from (for example a
// downloaded checkpoint), so that the next Open opens that state. from must be on the
// same file system as the pool's directory, since it is renamed, not copied: build it
// under StagingDir. Install fsyncs from's files first. An existing instance is first
// renamed away, then from is renamed into place: a crash in between leaves no
// instance of that name (an empty state, which the caller restores again), never a
// mix of the two.
func (p *Pool) Install(name, from string) error {
	if err := p.checkPublic("install instance", name); err != nil {
		return err
	}
	wrap := func(err error) error {
		return fmt.Errorf("rocks: install %s as instance %q in %s: %w", from, name, p.dir, err)
	}
	st, err := os.Stat(from)
	if err != nil {
		return wrap(err)
	}
	if !st.IsDir() {
		return wrap(errors.New("not a directory"))
	}
	p.mu.Lock()
	if err := p.acquireLocked(name); err != nil {
		p.mu.Unlock()
		return wrap(err)
	}
	trash := p.trashLocked(name)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.releaseLocked(name)
		p.mu.Unlock()
	}()

	if err := syncTree(from); err != nil {
		return wrap(err)
	}
	target := filepath.Join(p.dir, name)
	old := true
	if err := os.Rename(target, trash); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return wrap(fmt.Errorf("move the old instance away: %w", err))
		}
		old = false
	}
	if err := os.Rename(from, target); err != nil {
		if errors.Is(err, syscall.EXDEV) {
			err = fmt.Errorf("%w: the directory must be on the pool's file system (stage it under %s)", err, p.StagingDir())
		}
		if old { // put the old instance back
			if rerr := os.Rename(trash, target); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore the old instance from %s: %w", trash, rerr))
			}
		}
		return wrap(err)
	}
	if err := syncDir(p.dir); err != nil {
		return wrap(err)
	}
	if old {
		if err := os.RemoveAll(trash); err != nil {
			return wrap(fmt.Errorf("delete the old instance: %w", err))
		}
	}
	return nil
}

// syncTree fsyncs every regular file directly in dir, then dir itself.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", e.Name(), err)
		}
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
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

// Close closes every open instance (waiting for opens, closes, installs and removals
// in progress), then the shared cache and the lock. Calling it again does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cond.Broadcast() // waiters in acquireLocked fail now
	for len(p.busy) > 0 {
		p.cond.Wait()
	}
	dbs := make([]*DB, 0, len(p.dbs))
	for _, d := range p.dbs {
		dbs = append(dbs, d)
	}
	p.mu.Unlock()
	for _, d := range dbs {
		p.closeDB(d)
	}
	p.mu.Lock()
	for len(p.busy) > 0 { // DB.Close calls that started meanwhile
		p.cond.Wait()
	}
	p.mu.Unlock()
	p.bbto.Destroy()
	p.cache.Destroy()
	if p.lock != nil {
		// Closing the file releases the flock.
		if err := p.lock.Close(); err != nil {
			return fmt.Errorf("rocks: close pool %s: lock file: %w", p.dir, err)
		}
	}
	return nil
}
