package state

import (
	"bytes"
	"sort"
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

// MemoryBackend is a Backend kept in a Go map. It copies what it is given.
type MemoryBackend struct {
	m map[string][]byte
}

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
	b.m[string(key)] = bytes.Clone(value)
	return nil
}

// Delete implements Backend.
func (b *MemoryBackend) Delete(key []byte) error {
	delete(b.m, string(key))
	return nil
}

// Range implements Backend.
func (b *MemoryBackend) Range(fn func(key, value []byte) error) error {
	keys := make([]string, 0, len(b.m))
	for k := range b.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), b.m[k]); err != nil {
			return err
		}
	}
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
