package rocks

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/linxGnu/grocksdb"
)

// This file opens and closes the instances of a pool, counting their column
// families in the write-buffer rule (memory.go).

// Open opens the instance name (for example "0_3": sub-topology 0, partition 3),
// creating dir/name if it does not exist, with every column family it has. It fails
// with ErrInstanceOpen if the instance is open already; if it is being closed,
// installed or removed by another goroutine, Open waits for that first.
func (p *Pool) Open(name string) (*DB, error) {
	if err := checkName("open instance", name); err != nil {
		return nil, err
	}
	dir := filepath.Join(p.dir, name)
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
	d, err := p.open(name, dir)
	if err != nil {
		return nil, wrap(err)
	}
	return d, nil
}

// open opens the instance name in dir, which the caller has marked busy: it counts
// the instance's column families in N first, so that the others shrink before they
// exist, and uncounts them if the open fails.
func (p *Pool) open(name, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names, err := columnFamilies(dir)
	if err != nil {
		return nil, err
	}
	// names[0], default, is never written; meta and the stores share the pool.
	counted := len(names) - 1

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if err := p.adjustLocked(counted); err != nil {
		p.adjustLocked(-counted)
		p.mu.Unlock()
		return nil, err
	}
	wbs := p.wbs
	opts := p.dbOptions(len(p.dbs)+p.opening, wbs)
	p.mu.Unlock()

	d, err := p.openDB(name, dir, names, opts, wbs)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
	case p.closed:
		err = ErrClosed
	case p.wbs != d.wbs.Load():
		// Instances opened or closed meanwhile have moved the size.
		err = d.applyWriteBufferSizeLocked(p.wbs)
	}
	if err != nil {
		if d != nil {
			d.closed = true
			d.release()
		}
		p.adjustLocked(-counted)
		return nil, err
	}
	p.dbs[name] = d
	return d, nil
}

// columnFamilies lists the column families to open the instance in dir with:
// default, meta, then every other one it has.
func columnFamilies(dir string) ([]string, error) {
	names := []string{defaultCF, metaCF}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err != nil {
		return names, nil // a new instance
	}
	lo := grocksdb.NewDefaultOptions()
	existing, err := grocksdb.ListColumnFamilies(lo, dir)
	lo.Destroy()
	if err != nil {
		return nil, fmt.Errorf("list column families: %w", err)
	}
	for _, n := range existing {
		if n != defaultCF && n != metaCF {
			names = append(names, n)
		}
	}
	return names, nil
}

// openDB opens the RocksDB instance in dir with the column families names, every
// one with opts, which the DB owns from then on (and destroys if the open fails).
func (p *Pool) openDB(name, dir string, names []string, opts *grocksdb.Options, wbs int64) (*DB, error) {
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
		return nil, err
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
	return d, nil
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
