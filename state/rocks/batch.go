package rocks

import "github.com/linxGnu/grocksdb"

// Batch collects puts and deletes of one store partition and writes them in
// one RocksDB write (one write-ahead log append), in order: how a global
// table applies a fetched batch of its topic, several times faster than a
// write per record (BenchmarkGlobalRestore in runtime/engine).
type Batch struct {
	s   *Store
	wb  *grocksdb.WriteBatch
	err error // a write added to a dropped or closed partition: Write returns it
}

// NewBatch returns an empty batch for s; Close frees it.
func (s *Store) NewBatch() *Batch { return &Batch{s: s, wb: grocksdb.NewWriteBatch()} }

// Put adds a put; RocksDB copies key and value.
func (b *Batch) Put(key, value []byte) {
	if b.use() {
		b.wb.PutCF(b.s.f.handle, key, value)
		b.s.f.release()
	}
}

// Delete adds a delete.
func (b *Batch) Delete(key []byte) {
	if b.use() {
		b.wb.DeleteCF(b.s.f.handle, key)
		b.s.f.release()
	}
}

// use holds the partition's column family for one addition (its handle is
// invalid once the partition is dropped), or records why it cannot.
func (b *Batch) use() bool {
	if b.err != nil {
		return false
	}
	if err := b.s.f.acquire(); err != nil {
		b.err = b.s.errorf("write batch", err)
		return false
	}
	return true
}

// Len is the number of writes added since the last Write.
func (b *Batch) Len() int { return b.wb.Count() }

// Write writes what was added, at once, and empties the batch.
func (b *Batch) Write() error {
	if err := b.err; err != nil {
		b.err = nil
		b.wb.Clear()
		return err
	}
	if err := b.s.f.acquire(); err != nil {
		return b.s.errorf("write batch", err)
	}
	defer b.s.f.release()
	defer b.wb.Clear()
	if err := b.s.db.rdb.Write(b.s.db.wo, b.wb); err != nil {
		return b.s.errorf("write batch", err)
	}
	return nil
}

// Close frees the batch.
func (b *Batch) Close() { b.wb.Destroy() }
