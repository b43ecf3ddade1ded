package state

import (
	"bytes"
	"fmt"
	"unsafe"
)

// DefaultCacheEntries bounds a Cache when the runner sets no bound.
const DefaultCacheEntries = 100_000

// Cache is a typed write-back cache in front of a Backend, keyed by encoded key.
type Cache[V any] struct {
	backend    Backend
	encode     func(dst []byte, v V) ([]byte, error)
	decode     func([]byte) (V, error)
	entries    map[string]*entry[V]
	dirty      int
	maxEntries int
	buf        []byte
}

type entry[V any] struct {
	value   V
	dirty   bool
	deleted bool
}

// NewCache returns a cache over backend that holds at most maxEntries values
// (DefaultCacheEntries when maxEntries <= 0). encode and decode are the value serde.
func NewCache[V any](backend Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), maxEntries int) *Cache[V] {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	return &Cache[V]{backend: backend, encode: encode, decode: decode, entries: map[string]*entry[V]{}, maxEntries: maxEntries}
}

// Get returns the value under key, reading through to the backend on a miss.
func (c *Cache[V]) Get(key []byte) (V, bool, error) {
	if e, ok := c.entries[string(key)]; ok {
		return e.value, !e.deleted, nil
	}
	var zero V
	raw, found, err := c.backend.Get(key)
	if err != nil || !found {
		return zero, false, err
	}
	// A backend's result is valid only until its next call, and decoders may alias
	// their input, so the cache keeps its own copy (one allocation per miss).
	v, err := c.decode(bytes.Clone(raw))
	if err != nil {
		return zero, false, fmt.Errorf("decode stored value: %w", err)
	}
	if err := c.insert(key, &entry[V]{value: v}); err != nil {
		return zero, false, err
	}
	return v, true, nil
}

// Upsert returns a pointer to the value under key, read through from the backend
// on a miss, with one map lookup: the read-modify-write of an aggregation updates
// *v in place. found reports whether key had a value (if not, *v is the zero value).
// The entry is marked changed, so the backend sees *v at the next Flush. v is valid
// until the next call on the cache.
func (c *Cache[V]) Upsert(key []byte) (v *V, found bool, err error) {
	if e, ok := c.entries[string(key)]; ok {
		found = !e.deleted
		e.deleted = false
		c.markDirty(e)
		return &e.value, found, nil
	}
	e := &entry[V]{dirty: true}
	raw, found, err := c.backend.Get(key)
	if err != nil {
		return nil, false, err
	}
	if found {
		if e.value, err = c.decode(bytes.Clone(raw)); err != nil {
			return nil, false, fmt.Errorf("decode stored value: %w", err)
		}
	}
	if err := c.insert(key, e); err != nil {
		return nil, false, err
	}
	return &e.value, found, nil
}

// Put sets the value under key; the backend sees it at the next Flush.
func (c *Cache[V]) Put(key []byte, v V) error {
	if e, ok := c.entries[string(key)]; ok {
		e.value, e.deleted = v, false
		c.markDirty(e)
		return nil
	}
	return c.insert(key, &entry[V]{value: v, dirty: true})
}

// Delete removes key; the backend sees it at the next Flush.
func (c *Cache[V]) Delete(key []byte) error {
	if e, ok := c.entries[string(key)]; ok {
		var zero V
		e.value, e.deleted = zero, true
		c.markDirty(e)
		return nil
	}
	return c.insert(key, &entry[V]{deleted: true, dirty: true})
}

func (c *Cache[V]) markDirty(e *entry[V]) {
	if !e.dirty {
		e.dirty = true
		c.dirty++
	}
}

// insert adds a new entry, first making room by flushing and emptying the cache
// when it is full (a full flush is cheaper per entry than tracking recency).
func (c *Cache[V]) insert(key []byte, e *entry[V]) error {
	if len(c.entries) >= c.maxEntries {
		if err := c.Flush(); err != nil {
			return err
		}
		clear(c.entries)
	}
	c.entries[string(key)] = e
	if e.dirty {
		c.dirty++ // counted only once the entry is in the map
	}
	return nil
}

// Flush writes every changed entry to the backend, in no particular order.
func (c *Cache[V]) Flush() error {
	if c.dirty == 0 {
		return nil
	}
	for k, e := range c.entries {
		if !e.dirty {
			continue
		}
		// Backends copy what they keep and never write to a key, so the map's
		// string can be lent as bytes without a copy.
		key := unsafe.Slice(unsafe.StringData(k), len(k))
		var err error
		if e.deleted {
			err = c.backend.Delete(key)
		} else {
			c.buf, err = c.encode(c.buf[:0], e.value)
			if err == nil {
				err = c.backend.Put(key, c.buf)
			}
		}
		if err != nil {
			return fmt.Errorf("flush key %q: %w", k, err)
		}
		e.dirty = false
		c.dirty--
	}
	return nil
}

// Len is the number of cached entries.
func (c *Cache[V]) Len() int { return len(c.entries) }
