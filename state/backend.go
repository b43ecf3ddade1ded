package state

import (
	"bytes"
	"slices"
	"unsafe"
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

// MemoryBackend is an OrderedBackend kept in a Go map, with its keys also in a
// sorted slice for ordered scans (a new key costs a binary search and a move of
// the keys after it: simple, and fast enough for tests and the test driver). It
// copies what it is given.
type MemoryBackend struct {
	m    map[string][]byte
	keys []string // the keys of m, sorted
}

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
	k := string(key)
	if _, ok := b.m[k]; !ok {
		i, _ := slices.BinarySearch(b.keys, k)
		b.keys = slices.Insert(b.keys, i, k)
	}
	b.m[k] = bytes.Clone(value)
	return nil
}

// Delete implements Backend.
func (b *MemoryBackend) Delete(key []byte) error {
	if _, ok := b.m[string(key)]; !ok {
		return nil
	}
	delete(b.m, string(key))
	i, _ := slices.BinarySearch(b.keys, string(key))
	b.keys = slices.Delete(b.keys, i, i+1)
	return nil
}

// Range implements Backend.
func (b *MemoryBackend) Range(fn func(key, value []byte) error) error {
	return b.Scan(nil, nil, fn)
}

// Scan implements OrderedBackend. After each entry it finds the next key by a
// binary search, so fn may write to the backend.
func (b *MemoryBackend) Scan(from, to []byte, fn func(key, value []byte) error) error {
	i, _ := slices.BinarySearch(b.keys, string(from))
	for i < len(b.keys) {
		k := b.keys[i]
		if to != nil && k >= string(to) {
			return nil
		}
		// Keys are never written to (Backend's contract): lend the string's bytes.
		if err := fn(unsafe.Slice(unsafe.StringData(k), len(k)), b.m[k]); err != nil {
			return err
		}
		j, found := slices.BinarySearch(b.keys, k)
		if found {
			j++
		}
		i = j
	}
	return nil
}

// DeleteRange implements OrderedBackend.
func (b *MemoryBackend) DeleteRange(from, to []byte) error {
	i, _ := slices.BinarySearch(b.keys, string(from))
	j := len(b.keys)
	if to != nil {
		j, _ = slices.BinarySearch(b.keys, string(to))
	}
	if j <= i {
		return nil
	}
	for _, k := range b.keys[i:j] {
		delete(b.m, k)
	}
	b.keys = slices.Delete(b.keys, i, j)
	return nil
}

// Len is the number of entries.
func (b *MemoryBackend) Len() int { return len(b.m) }

// Logged is a Backend that also sends every write to a changelog through Log
// (value nil for a delete), as Kafka Streams' change-logging stores do. Log must
// copy what it keeps: key and value are reused by the caller.
type Logged struct {
	Backend
	Log func(key, value []byte)
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
