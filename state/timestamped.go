package state

import "fmt"

// TimestampedCache is a key-value store whose rows carry a timestamp, as Kafka
// Streams' TimestampedKeyValueStore: the store of a table that a table-table
// or foreign-key join reads, whose result takes the later of the two rows'
// timestamps. It is a Cache of (value, timestamp) pairs, so a row's timestamp
// costs no lookup of its own and steady-state reads and writes allocate
// nothing.
//
// In the backend, and so in the changelog and snapshots, a row is its
// timestamp (8 bytes, as window stores write it) then the value serde's bytes
// (TimestampedValue splits them). A table read from a topic stores the
// record's timestamp; an aggregation stores the latest timestamp that
// contributed (Set).
type TimestampedCache[V any] struct {
	c *Cache[timed[V]]
}

// TimestampedSlot is the cache's place for one key, from TimestampedCache.Slot.
type TimestampedSlot[V any] Slot[timed[V]]

// Value returns the slot's value and whether the key has one.
func (s *TimestampedSlot[V]) Value() (V, bool) { return s.value.v, s.present }

// Timestamp is the timestamp of the slot's row (0 without one).
func (s *TimestampedSlot[V]) Timestamp() int64 { return s.value.ts }

// NewTimestampedCache returns a timestamped store over backend that caches at
// most maxEntries rows (DefaultCacheEntries when maxEntries <= 0). encode and
// decode are the value serde.
func NewTimestampedCache[V any](backend Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), maxEntries int) *TimestampedCache[V] {
	enc := func(dst []byte, t timed[V]) ([]byte, error) { return encode(appendTime(dst, t.ts), t.v) }
	dec := func(b []byte) (timed[V], error) {
		raw, ts, err := TimestampedValue(b)
		if err != nil {
			return timed[V]{}, err
		}
		v, err := decode(raw)
		return timed[V]{v: v, ts: ts}, err
	}
	return &TimestampedCache[V]{c: NewCache(backend, enc, dec, maxEntries)}
}

// TimestampedValue splits a row of a timestamped store, as its backend holds
// it, into the value serde's bytes and the row's timestamp.
func TimestampedValue(b []byte) ([]byte, int64, error) {
	if len(b) < 8 {
		return nil, 0, fmt.Errorf("stored value has %d bytes, want at least 8 (timestamp)", len(b))
	}
	return b[8:], readTime(b), nil
}

// Get returns the value under key and whether there is one.
func (c *TimestampedCache[V]) Get(key []byte) (V, bool, error) {
	t, found, err := c.c.Get(key)
	return t.v, found, err
}

// GetTimed returns the value under key, its timestamp and whether there is one.
func (c *TimestampedCache[V]) GetTimed(key []byte) (V, int64, bool, error) {
	s, place := c.c.find(key)
	if s != nil {
		return s.value.v, s.value.ts, s.present, nil
	}
	t, found, err := c.c.getMiss(key, place)
	return t.v, t.ts, found, err
}

// Put sets the value under key and its timestamp ts (a table's row takes its
// record's, even an older one, as Kafka Streams' KTableSource stores it).
func (c *TimestampedCache[V]) Put(key []byte, v V, ts int64) error {
	return c.c.Put(key, timed[V]{v: v, ts: ts})
}

// Delete removes key.
func (c *TimestampedCache[V]) Delete(key []byte) error { return c.c.Delete(key) }

// Slot returns the place for key, for a read-modify-write (see Cache.Slot).
func (c *TimestampedCache[V]) Slot(key []byte) (*TimestampedSlot[V], error) {
	s, err := c.c.Slot(key)
	return (*TimestampedSlot[V])(s), err
}

// Set gives slot s (from Slot, with no cache call since) the value v; its
// timestamp becomes the larger of ts and the one it had, as Kafka Streams'
// aggregations stamp an updated aggregate.
func (c *TimestampedCache[V]) Set(s *TimestampedSlot[V], v V, ts int64) {
	sl := (*Slot[timed[V]])(s)
	if sl.present {
		ts = max(ts, sl.value.ts)
	}
	c.c.Set(sl, timed[V]{v: v, ts: ts})
}

// Flush writes the changed rows to the backend.
func (c *TimestampedCache[V]) Flush() error { return c.c.Flush() }

// Len is the number of cached rows.
func (c *TimestampedCache[V]) Len() int { return c.c.Len() }
