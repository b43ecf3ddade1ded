package rocks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"

	"github.com/linxGnu/grocksdb"
)

// This file is the Pool itself: its directory and lock, the names of its instances,
// and its lifecycle. Opening and closing instances is in instance.go, the memory
// budget in memory.go, Install and Remove in install.go.

const (
	lockFile   = ".lock"    // flock'd by the Pool that owns the directory
	stagingDir = ".staging" // where callers build directories to Install; emptied by OpenPool
	maxName    = 200
)

// ErrInstanceOpen is returned by Pool.Open for an instance that is already open and
// by Pool.Remove and Pool.Install, which need the instance closed.
var ErrInstanceOpen = errors.New("rocks: instance is open")

// Pool is the process-wide owner of RocksDB memory: a directory of instances (one per
// task), the one LRU block cache and block-based table options they all share, and
// the write-buffer rule applied across all of their column families (see the package
// doc). Its methods are safe for concurrent use.
type Pool struct {
	dir  string
	mem  Memory
	lock *os.File // flock'd lockFile

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

func newPool(dir string, mem Memory) *Pool {
	p := &Pool{dir: dir, mem: mem, dbs: map[string]*DB{}, busy: map[string]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wbs = WriteBufferSize(mem.WriteBuffers, 0)
	p.cache = newBlockCache(mem.BlockCache)
	p.bbto = newTableOptions(p.cache)
	return p
}

// Dir is the pool's directory.
func (p *Pool) Dir() string { return p.dir }

// StagingDir is a directory inside the pool's directory, hence on the same file
// system, where callers build (download) the directories they pass to Install, which
// renames them. OpenPool empties it.
func (p *Pool) StagingDir() string { return filepath.Join(p.dir, stagingDir) }

// Instances lists the instance directories in the pool's directory, open or not,
// sorted by name.
func (p *Pool) Instances() ([]string, error) {
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

// checkName checks the instance name given to op.
func checkName(op, name string) error {
	if err := validName(name); err != nil {
		return fmt.Errorf("rocks: %s: %w", op, err)
	}
	return nil
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
	// Closing the file releases the flock.
	if err := p.lock.Close(); err != nil {
		return fmt.Errorf("rocks: close pool %s: lock file: %w", p.dir, err)
	}
	return nil
}
