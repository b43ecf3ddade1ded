package state

import (
	"bytes"
	"cmp"
	"unsafe"

	"github.com/google/btree"
)

// Backend is a byte-level key-value store. Implementations copy the keys and values
// they keep and never write to the slices they are given.
type Backend interface {
	// Get returns the value stored under key. The result is valid until the next
	// call on the backend.
	Get(key []byte) (value []byte, found bool, err error)
	Put(key, value []byte) error
	Delete(key []byte) error
	// Range calls fn for every entry in key order until fn returns an error.
	Range(fn func(key, value []byte) error) error
}

// MemoryBackend is an OrderedBackend kept in a Go map. For ordered reads it
// also keeps its keys in a B-tree (github.com/google/btree), built at the first
// Scan or DeleteRange and kept from then on: a backend never scanned (a
// key-value store's) costs a map operation per write and keeps no order at
// all; an ordered one (a window store's) adds O(log n) per new or deleted key.
// It copies what it is given, without an allocation per entry where it can:
//
//   - Once ordered (a window, session or join store's backend, whose entries
//     leave oldest first, by DeleteRange), it copies new keys into chunks of
//     keyChunk bytes: one allocation per chunk, not one per key. A chunk's
//     bytes are never written again, so a key string stays as whoever holds
//     it saw it; the collector frees a chunk once none of its keys is
//     referenced, which, keys leaving in time order, is soon after the last
//     of them expires.
//   - The values of removed entries are kept by length (up to the most
//     entries the backend has held, or maxFree, of each) for new entries of
//     that length: a store's values mostly have one.
//     A value is valid only until the next call on the backend (Backend.Get),
//     so handing its bytes to another entry breaks no holder.
type MemoryBackend struct {
	m     map[string][]byte
	keys  *btree.BTreeG[string] // nil until the first ordered read
	chunk []byte                // where new keys go, once ordered
	free  map[int][][]byte      // removed entries' values, by length
	peak  int                   // the most entries held
	gone  []string              // DeleteRange's scratch
}

const (
	keyChunk = 16 << 10 // bytes of a chunk of keys
	maxFree  = 1 << 16  // values kept per length, at least
)

var _ OrderedBackend = (*MemoryBackend)(nil)

// NewMemoryBackend returns an empty MemoryBackend.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{m: map[string][]byte{}} }

// Get implements Backend.
func (b *MemoryBackend) Get(key []byte) ([]byte, bool, error) {
	v, ok := b.m[string(key)]
	return v, ok, nil
}

// Put implements Backend.
func (b *MemoryBackend) Put(key, value []byte) error {
	if old, ok := b.m[string(key)]; ok && len(old) == len(value) {
		copy(old, value) // in place: no map assignment, so no key allocation
		return nil
	}
	if old, ok := b.m[string(key)]; ok {
		b.m[string(key)] = b.clone(value) // the key stays: no allocation for it
		b.recycle(old)
		return nil
	}
	k := b.newKey(key)
	b.m[k] = b.clone(value)
	b.peak = max(b.peak, len(b.m))
	if b.keys != nil {
		b.keys.ReplaceOrInsert(k)
	}
	return nil
}

// newKey is key as a string for a new entry: in the chunk of keys once the
// backend is ordered, else its own allocation.
func (b *MemoryBackend) newKey(key []byte) string {
	if b.keys == nil || len(key) == 0 || len(key) > keyChunk/16 {
		return string(key)
	}
	if cap(b.chunk)-len(b.chunk) < len(key) {
		b.chunk = make([]byte, 0, keyChunk) // the old chunk is left to its keys
	}
	n := len(b.chunk)
	b.chunk = append(b.chunk, key...)
	return unsafe.String(&b.chunk[n], len(key))
}

// clone copies value, into a removed entry's value of its length if there is one.
func (b *MemoryBackend) clone(value []byte) []byte {
	if free := b.free[len(value)]; len(free) > 0 && len(value) > 0 {
		v := free[len(free)-1]
		free[len(free)-1] = nil
		b.free[len(value)] = free[:len(free)-1]
		copy(v, value)
		return v
	}
	return bytes.Clone(value)
}

// recycle keeps the value of a removed entry for a new one.
func (b *MemoryBackend) recycle(v []byte) {
	if len(v) == 0 || len(b.free[len(v)]) >= max(maxFree, b.peak) {
		return
	}
	if b.free == nil {
		b.free = map[int][][]byte{}
	}
	b.free[len(v)] = append(b.free[len(v)], v[:len(v):len(v)])
}

// Delete implements Backend.
func (b *MemoryBackend) Delete(key []byte) error {
	if v, ok := b.m[string(key)]; ok {
		delete(b.m, string(key))
		if b.keys != nil {
			b.keys.Delete(string(key))
		}
		b.recycle(v)
	}
	return nil
}

// order builds the key index at the first ordered read.
func (b *MemoryBackend) order() {
	if b.keys != nil {
		return
	}
	b.keys = btree.NewG(32, func(a, b string) bool { return a < b })
	for k := range b.m {
		b.keys.ReplaceOrInsert(k)
	}
}

// next is the first key at or after from (below to, unless to is nil).
func (b *MemoryBackend) next(from string, to []byte) (string, bool) {
	var key string
	found := false
	b.keys.AscendGreaterOrEqual(from, func(k string) bool {
		key, found = k, to == nil || k < string(to)
		return false
	})
	return key, found
}

// Range implements Backend.
func (b *MemoryBackend) Range(fn func(key, value []byte) error) error {
	return b.Scan(nil, nil, fn)
}

// Scan implements OrderedBackend. It finds each next key in the index afresh,
// so fn may write to the backend (even scan it).
func (b *MemoryBackend) Scan(from, to []byte, fn func(key, value []byte) error) error {
	b.order()
	k, ok := b.next(string(from), to)
	for ok {
		if v, present := b.m[k]; present {
			// Keys are never written to (Backend's contract): lend the string's bytes.
			if err := fn(bytesOf(k), v); err != nil {
				return err
			}
		}
		k, ok = b.next(k+"\x00", to)
	}
	return nil
}

// DeleteRange implements OrderedBackend.
func (b *MemoryBackend) DeleteRange(from, to []byte) error {
	b.order()
	doomed := b.gone[:0]
	visit := func(k string) bool {
		doomed = append(doomed, k)
		return true
	}
	if to == nil {
		b.keys.AscendGreaterOrEqual(string(from), visit)
	} else {
		b.keys.AscendRange(string(from), string(to), visit)
	}
	for _, k := range doomed {
		b.recycle(b.m[k])
		delete(b.m, k)
		b.keys.Delete(k)
	}
	clear(doomed) // let the keys' chunks go
	b.gone = doomed[:0]
	return nil
}

// Len is the number of entries.
func (b *MemoryBackend) Len() int { return len(b.m) }

// Batcher is a Backend that can collect writes and apply them at once. A
// cache's flush and eviction write through it when their backend is one: on
// RocksDB that is one write batch and one log append per flush, and none of
// the allocation grocksdb's Put makes on every call (its error slot escapes
// to cgo). Collected writes are not visible before WriteBatch.
type Batcher interface {
	BatchPut(key, value []byte)
	BatchDelete(key []byte)
	// WriteBatch applies the collected writes in order; after an error some
	// may not be applied.
	WriteBatch() error
}

// Logged is a Backend that also sends every write to a changelog through Log
// (value nil for a delete), as Kafka Streams' change-logging stores do. Log must
// copy what it keeps: key and value are reused by the caller.
type Logged struct {
	Backend
	Log    func(key, value []byte)
	failed error // a write of the batch being collected that failed
}

// Put implements Backend.
func (l *Logged) Put(key, value []byte) error {
	if err := l.Backend.Put(key, value); err != nil {
		return err
	}
	if value == nil {
		value = []byte{} // nil means delete in a changelog
	}
	l.Log(key, value)
	return nil
}

// Delete implements Backend.
func (l *Logged) Delete(key []byte) error {
	if err := l.Backend.Delete(key); err != nil {
		return err
	}
	l.Log(key, nil)
	return nil
}

var _ Batcher = (*Logged)(nil)

// BatchPut implements Batcher: it logs at once and collects the write in the
// backend's batch, or writes it now if the backend takes no batches (an error
// is then returned by WriteBatch). If the batch then fails, the task fails and
// is restored from the changelog, which has the write.
func (l *Logged) BatchPut(key, value []byte) {
	if b, ok := l.Backend.(Batcher); ok {
		b.BatchPut(key, value)
	} else if err := l.Backend.Put(key, value); err != nil {
		l.failed = cmp.Or(l.failed, err)
		return
	}
	if value == nil {
		value = []byte{}
	}
	l.Log(key, value)
}

// BatchDelete implements Batcher, as BatchPut.
func (l *Logged) BatchDelete(key []byte) {
	if b, ok := l.Backend.(Batcher); ok {
		b.BatchDelete(key)
	} else if err := l.Backend.Delete(key); err != nil {
		l.failed = cmp.Or(l.failed, err)
		return
	}
	l.Log(key, nil)
}

// WriteBatch implements Batcher.
func (l *Logged) WriteBatch() error {
	if err := l.failed; err != nil {
		l.failed = nil
		if b, ok := l.Backend.(Batcher); ok {
			_ = b.WriteBatch() // what was collected still goes in
		}
		return err
	}
	if b, ok := l.Backend.(Batcher); ok {
		return b.WriteBatch()
	}
	return nil
}
