package state

import (
	"bytes"
	"fmt"
)

// ReadCache is a typed read cache over a Backend that another goroutine
// writes, a replica's global table (Shared): it keeps decoded values, and
// misses, by key, and forgets them all as soon as the backend's version
// changes, so a lookup never sees a value older than what the backend had
// when the lookup began. A table that rarely changes (a catalogue) is then
// read without a copy, a decode or an allocation per lookup.
//
//	task ─Get(key)─▶ version changed since the last Get? ─▶ forget everything
//	                 ─▶ hit: the decoded value (or "no row")
//	                 ─▶ miss: backend Get ─▶ copy ─▶ decode ─▶ keep (forget everything first when full)
//
// One ReadCache serves one goroutine. Values are shared between lookups of the
// same key: callers must not modify what they get (copy a value to change it).
type ReadCache[V any] struct {
	b       Backend
	version func() uint64 // nil: the backend gives none, so nothing is cached
	decode  func([]byte) (V, error)
	seen    uint64
	entries map[string]readEntry[V]
	max     int
}

type readEntry[V any] struct {
	value V
	found bool
}

// Versioned is a Backend that counts its writes (Shared and its views).
type Versioned interface {
	Version() uint64
}

// NewReadCache returns a ReadCache over b keeping at most maxEntries keys
// (DefaultCacheEntries when 0). Over a backend that is not Versioned it caches
// nothing and reads through.
func NewReadCache[V any](b Backend, decode func([]byte) (V, error), maxEntries int) *ReadCache[V] {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	c := &ReadCache[V]{b: b, decode: decode, max: maxEntries, entries: map[string]readEntry[V]{}}
	if v, ok := b.(Versioned); ok {
		c.version = v.Version
	}
	return c
}

// Get returns the value under key, and whether there is one.
func (c *ReadCache[V]) Get(key []byte) (V, bool, error) {
	if c.version != nil {
		if v := c.version(); v != c.seen {
			clear(c.entries)
			c.seen = v
		}
		if e, ok := c.entries[string(key)]; ok {
			return e.value, e.found, nil
		}
	}
	var zero V
	raw, found, err := c.b.Get(key)
	if err != nil {
		return zero, false, err
	}
	var v V
	if found {
		// The backend's bytes are valid until its next call and decoders may
		// alias their input: the value gets its own copy.
		if v, err = c.decode(bytes.Clone(raw)); err != nil {
			return zero, false, fmt.Errorf("decode stored value: %w", err)
		}
	}
	if c.version != nil {
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[string(key)] = readEntry[V]{v, found}
	}
	return v, found, nil
}
