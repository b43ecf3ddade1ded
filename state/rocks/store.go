package rocks

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/linxGnu/grocksdb"

	"github.com/gofka/streams/state"
)

// closingBias is subtracted from family.refs when a family is shut down, making the
// count negative so that new calls fail instead of using the handle.
const closingBias = 1 << 62

// family is the column family of one store partition. Calls on its Stores hold a
// reference while they use the handle; shutdown waits for those to end.
type family struct {
	sp     StorePartition
	handle *grocksdb.ColumnFamilyHandle
	refs   atomic.Int64
	gone   error // why the family was shut down; written before refs goes negative
}

func (f *family) acquire() error {
	if f.refs.Add(1) < 0 {
		f.refs.Add(-1)
		return f.gone
	}
	return nil
}

func (f *family) release() { f.refs.Add(-1) }

// shutdown makes new calls fail with err, waits for the calls in flight and returns
// the handle, which the caller may then drop and destroy. Called under DB.mu.
func (f *family) shutdown(err error) *grocksdb.ColumnFamilyHandle {
	f.gone = err
	f.refs.Add(-closingBias)
	for i := 0; f.refs.Load() != -closingBias; i++ {
		if i < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return f.handle
}

// Store is the state.Backend of one store partition: its own column family in the
// instance (DB) of its task. Like every Backend it is for one goroutine at a time.
type Store struct {
	db         *DB
	f          *family
	val        []byte // Get's result, valid until the next call
	kbuf, vbuf []byte // Range's and Scan's key and value, valid during fn
	upper      []byte // Scan's upper bound, which RocksDB reads while the iterator lives
	batch      *Batch // the writes a cache's flush is collecting (state.Batcher)
}

var (
	_ state.Backend = (*Store)(nil)
	_ state.Batcher = (*Store)(nil)
)

// BatchPut implements state.Batcher: the write waits in a batch for
// WriteBatch. The batch lives for one flush, so RocksDB's copy of a large
// flush is not kept outside the memory budget afterwards.
func (s *Store) BatchPut(key, value []byte) {
	if s.batch == nil {
		s.batch = s.NewBatch()
	}
	s.batch.Put(key, value)
}

// BatchDelete implements state.Batcher.
func (s *Store) BatchDelete(key []byte) {
	if s.batch == nil {
		s.batch = s.NewBatch()
	}
	s.batch.Delete(key)
}

// WriteBatch implements state.Batcher: it writes the collected writes in one
// RocksDB write, and frees the batch.
func (s *Store) WriteBatch() error {
	b := s.batch
	if b == nil {
		return nil
	}
	s.batch = nil
	defer b.Close()
	return b.Write()
}

// StorePartition is the store partition the Store holds.
func (s *Store) StorePartition() StorePartition { return s.f.sp }

func (s *Store) errorf(op string, err error) error {
	return fmt.Errorf("rocks: %v: %s: %w", s.f.sp, op, err)
}

// Get implements state.Backend. The value is copied into a buffer owned by the Store
// and is valid until the Store's next call.
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	if err := s.f.acquire(); err != nil {
		return nil, false, s.errorf("get", err)
	}
	defer s.f.release()
	h, err := s.db.rdb.GetPinnedCF(s.db.ro, s.f.handle, key)
	if err != nil {
		return nil, false, s.errorf("get", err)
	}
	if !h.Exists() {
		return nil, false, nil
	}
	if s.val == nil {
		s.val = make([]byte, 0, 64)
	}
	s.val = append(s.val[:0], h.Data()...)
	h.Destroy()
	return s.val, true, nil
}

// Put implements state.Backend. RocksDB copies key and value.
func (s *Store) Put(key, value []byte) error {
	if err := s.f.acquire(); err != nil {
		return s.errorf("put", err)
	}
	defer s.f.release()
	if err := s.db.rdb.PutCF(s.db.wo, s.f.handle, key, value); err != nil {
		return s.errorf("put", err)
	}
	return nil
}

// Delete implements state.Backend.
func (s *Store) Delete(key []byte) error {
	if err := s.f.acquire(); err != nil {
		return s.errorf("delete", err)
	}
	defer s.f.release()
	if err := s.db.rdb.DeleteCF(s.db.wo, s.f.handle, key); err != nil {
		return s.errorf("delete", err)
	}
	return nil
}

// Range implements state.Backend: it calls fn for every entry in key order (bytewise),
// over a consistent view taken when it starts. key and value are copies owned by the
// Store, valid until fn returns. fn may call the Store's other methods but must not
// call DropStore or Close for it.
func (s *Store) Range(fn func(key, value []byte) error) error {
	if err := s.f.acquire(); err != nil {
		return s.errorf("range", err)
	}
	defer s.f.release()
	it := s.db.rdb.NewIteratorCF(s.db.ro, s.f.handle)
	defer it.Close()
	for it.SeekToFirst(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value() // point into the iterator; no need to Free
		s.kbuf = append(s.kbuf[:0], k.Data()...)
		s.vbuf = append(s.vbuf[:0], v.Data()...)
		if err := fn(s.kbuf, s.vbuf); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return s.errorf("range", err)
	}
	return nil
}
