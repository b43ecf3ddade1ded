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
	entries    map[string]*Slot[V]
	dirty      int
	maxEntries int
	buf        []byte
}

// Slot is the cache's place for one key, returned by Cache.Slot for a
// read-modify-write with one map lookup.
type Slot[V any] struct {
	value   V
	present bool // the key has a value (false: absent, or deleted)
	dirty   bool // changed since the last Flush
}

// Value returns the slot's value and whether the key has one.
func (s *Slot[V]) Value() (V, bool) { return s.value, s.present }

// NewCache returns a cache over backend that holds at most maxEntries values
// (DefaultCacheEntries when maxEntries <= 0). encode and decode are the value serde.
func NewCache[V any](backend Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), maxEntries int) *Cache[V] {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	return &Cache[V]{backend: backend, encode: encode, decode: decode, entries: map[string]*Slot[V]{}, maxEntries: maxEntries}
}

// Slot returns the place for key, reading its value through from the backend on
// a miss. Reading a slot changes nothing; Set does. An aggregation reads the slot,
// runs the user's functions, and only then Sets the result, so a record that fails
// half-way leaves the store as it was. The slot is valid until the next call on
// the cache.
func (c *Cache[V]) Slot(key []byte) (*Slot[V], error) {
	if s, ok := c.entries[string(key)]; ok {
		return s, nil
	}
	s := &Slot[V]{}
	raw, found, err := c.backend.Get(key)
	if err != nil {
		return nil, err
	}
	if found {
		// A backend's result is valid only until its next call, and decoders may
		// alias their input, so the cache keeps its own copy (one allocation per miss).
		if s.value, err = c.decode(bytes.Clone(raw)); err != nil {
			return nil, fmt.Errorf("decode stored value: %w", err)
		}
		s.present = true
	}
	if err := c.insert(key, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Set gives slot s (from Slot, with no cache call since) the value v; the backend
// sees it at the next Flush.
func (c *Cache[V]) Set(s *Slot[V], v V) {
	s.value, s.present = v, true
	c.markDirty(s)
}

// Get returns the value under key, reading through to the backend on a miss. A
// key the backend does not have is not cached.
func (c *Cache[V]) Get(key []byte) (V, bool, error) {
	if s, ok := c.entries[string(key)]; ok {
		v, present := s.Value()
		return v, present, nil
	}
	var zero V
	raw, found, err := c.backend.Get(key)
	if err != nil || !found {
		return zero, false, err
	}
	v, err := c.decode(bytes.Clone(raw))
	if err != nil {
		return zero, false, fmt.Errorf("decode stored value: %w", err)
	}
	if err := c.insert(key, &Slot[V]{value: v, present: true}); err != nil {
		return zero, false, err
	}
	return v, true, nil
}

// Put sets the value under key; the backend sees it at the next Flush.
func (c *Cache[V]) Put(key []byte, v V) error {
	if s, ok := c.entries[string(key)]; ok {
		c.Set(s, v)
		return nil
	}
	return c.insert(key, &Slot[V]{value: v, present: true, dirty: true})
}

// Delete removes key; the backend sees it at the next Flush.
func (c *Cache[V]) Delete(key []byte) error {
	if s, ok := c.entries[string(key)]; ok {
		var zero V
		s.value, s.present = zero, false
		c.markDirty(s)
		return nil
	}
	return c.insert(key, &Slot[V]{dirty: true})
}

func (c *Cache[V]) markDirty(s *Slot[V]) {
	if !s.dirty {
		s.dirty = true
		c.dirty++
	}
}

// insert adds a new slot, first making room by flushing and emptying the cache
// when it is full (a full flush is cheaper per entry than tracking recency).
func (c *Cache[V]) insert(key []byte, s *Slot[V]) error {
	if len(c.entries) >= c.maxEntries {
		if err := c.Flush(); err != nil {
			return err
		}
		clear(c.entries)
	}
	c.entries[string(key)] = s
	if s.dirty {
		c.dirty++ // counted only once the slot is in the map
	}
	return nil
}

// Flush writes every changed entry to the backend, in no particular order.
func (c *Cache[V]) Flush() error {
	if c.dirty == 0 {
		return nil
	}
	for k, s := range c.entries {
		if !s.dirty {
			continue
		}
		// Backends copy what they keep and never write to a key, so the map's
		// string can be lent as bytes without a copy.
		key := unsafe.Slice(unsafe.StringData(k), len(k))
		var err error
		if s.present {
			c.buf, err = c.encode(c.buf[:0], s.value)
			if err == nil {
				err = c.backend.Put(key, c.buf)
			}
		} else {
			err = c.backend.Delete(key)
		}
		if err != nil {
			return fmt.Errorf("flush key %q: %w", k, err)
		}
		s.dirty = false
		c.dirty--
	}
	return nil
}

// Len is the number of cached entries.
func (c *Cache[V]) Len() int { return len(c.entries) }
