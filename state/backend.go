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

// MemoryBackend is an OrderedBackend kept in a Go map. For ordered reads it also
// keeps the keys in a sorted slice, brought up to date lazily: Put and Delete
// cost a map operation (a new key is only listed), and the first Scan after
// them sorts the new keys and merges them in, once, so a store written at every
// commit and scanned in between pays one merge per commit, not one per write.
// A backend never scanned (a key-value store's) keeps no order at all. It
// copies what it is given.
type MemoryBackend struct {
	m       map[string][]byte
	ordered bool     // scanned once: sorted and added are kept
	sorted  []string // keys in order; may still hold keys deleted since the last merge
	added   []string // keys put since the last merge, unordered
	stale   bool     // a listed key was deleted since the last merge
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
	_, had := b.m[k]
	b.m[k] = bytes.Clone(value)
	if !had && b.ordered {
		b.added = append(b.added, k)
		if len(b.added) > 2*len(b.m)+64 {
			b.order() // mostly keys deleted again: do not let them pile up
		}
	}
	return nil
}

// Delete implements Backend.
func (b *MemoryBackend) Delete(key []byte) error {
	if _, ok := b.m[string(key)]; ok {
		delete(b.m, string(key))
		b.stale = true
	}
	return nil
}

// order brings the sorted keys up to date: exactly the keys of the map, in order.
func (b *MemoryBackend) order() {
	if !b.ordered {
		b.ordered, b.stale = true, true
		for k := range b.m {
			b.added = append(b.added, k)
		}
	}
	if len(b.added) == 0 && !b.stale {
		return
	}
	slices.Sort(b.added)
	merged := make([]string, 0, len(b.m))
	i, j := 0, 0
	for i < len(b.sorted) || j < len(b.added) {
		var k string
		if j == len(b.added) || (i < len(b.sorted) && b.sorted[i] <= b.added[j]) {
			k, i = b.sorted[i], i+1
		} else {
			k, j = b.added[j], j+1
		}
		// A key deleted (and maybe put again) since the last merge is listed
		// twice, or no longer in the map.
		if _, ok := b.m[k]; ok && (len(merged) == 0 || merged[len(merged)-1] != k) {
			merged = append(merged, k)
		}
	}
	b.sorted, b.added, b.stale = merged, b.added[:0], false
}

// Range implements Backend.
func (b *MemoryBackend) Range(fn func(key, value []byte) error) error {
	return b.Scan(nil, nil, fn)
}

// Scan implements OrderedBackend. After each entry it finds the next key by a
// binary search, so fn may write to the backend (even scan it).
func (b *MemoryBackend) Scan(from, to []byte, fn func(key, value []byte) error) error {
	b.order()
	i, _ := slices.BinarySearch(b.sorted, string(from))
	for i < len(b.sorted) {
		k := b.sorted[i]
		if to != nil && k >= string(to) {
			return nil
		}
		if v, ok := b.m[k]; ok { // not deleted by fn
			// Keys are never written to (Backend's contract): lend the string's bytes.
			if err := fn(unsafe.Slice(unsafe.StringData(k), len(k)), v); err != nil {
				return err
			}
		}
		j, found := slices.BinarySearch(b.sorted, k)
		if found {
			j++
		}
		i = j
	}
	return nil
}

// DeleteRange implements OrderedBackend.
func (b *MemoryBackend) DeleteRange(from, to []byte) error {
	b.order()
	i, _ := slices.BinarySearch(b.sorted, string(from))
	j := len(b.sorted)
	if to != nil {
		j, _ = slices.BinarySearch(b.sorted, string(to))
	}
	if j <= i {
		return nil
	}
	for _, k := range b.sorted[i:j] {
		delete(b.m, k)
	}
	b.sorted = slices.Delete(b.sorted, i, j)
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
