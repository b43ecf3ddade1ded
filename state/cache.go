package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// DefaultCacheEntries bounds a Cache when the runner sets no bound.
const DefaultCacheEntries = 100_000

// Cache is a typed write-back cache in front of a Backend, keyed by encoded key.
//
// Finding a key's value is most of the cost of an aggregation step, so the cache
// has its own hash table rather than a map[string]*entry, laid out for few
// memory accesses per lookup:
//
//   - slots is a dense array of Slots, one per cached key, each holding the key,
//     the decoded value and its state together (one cache line for small
//     values), appended to as keys arrive.
//   - index is an open-addressed, linearly probed table of 8-byte places, at
//     most 3/4 full, each a 32-bit tag of the key's hash and the position of its
//     slot. It is small enough to stay in the CPU's caches; probing compares
//     tags, and only a matching tag leads to the slot.
//   - A key of up to 24 bytes (most keys: ids, names, numbers, and those of a
//     window store, which add 8 bytes of time to them) is read as up to three
//     words that, with its length, determine it. The slot keeps those words,
//     so confirming a match compares integers, not bytes (no read of the key's
//     bytes, elsewhere in memory), and the hash is the words mixed inline with
//     wyhash's multiply-fold (the fallback hash of Go's own maps) under the
//     cache's random seed. A longer key is hashed with a seeded maphash, as a
//     Go map hashes it, and its bytes are compared.
//
// Keys are never removed one by one (a deleted key keeps its slot, marked
// absent, and eviction empties the whole cache), so the index needs no
// tombstones and a slot never moves to another position.
//
// Slots changed since the last Flush are listed by position, so a Flush costs
// one Put or Delete per changed key and nothing per clean one, and writes them in
// the order they first changed.
type Cache[V any] struct {
	backend Backend
	batch   Batcher // the backend, if it takes batches (Flush writes through it)
	encode  func(dst []byte, v V) ([]byte, error)
	decode  func([]byte) (V, error)
	slots   []Slot[V]
	index   []uint64 // 0: empty; else tag<<32 | position in slots + 1
	dirty   []uint32 // positions of the slots changed since the last Flush, in order of first change
	// moves counts the times slots moved or the dirty list was rewritten other
	// than by appending (Flush, drop, emptying): an index of dirty positions
	// built before is stale (segments.go).
	moves      uint64
	maxEntries int    // the bound given to NewCache
	limit      int    // maxEntries under the process's cache share (cache_share.go)
	buf        []byte // reused for every encoded value
	keys       keyArena
	// evict, when set, makes room in a full cache in place of flushing and
	// emptying it (the window and session stores evict their oldest windows).
	evict      func() error
	spare      keyArena // the arena evict compacts the kept keys into (cache_evict.go)
	moved      []uint32 // drop's scratch
	seed       maphash.Seed
	k0, k1, k2 uint64 // random keys of the inline hash of short keys
}

// Slot is the cache's place for one key, returned by Cache.Slot for a
// read-modify-write with one lookup.
type Slot[V any] struct {
	a, b, c uint64 // a short key's words (words); a long key's hash, longKey and 0
	key     string // the encoded key
	pos     uint32 // position in Cache.slots
	present bool   // the key has a value (false: absent, or deleted)
	dirty   bool   // changed since the last Flush: in Cache.dirty
	value   V
}

const (
	shortKey = 24                    // longest key compared by its words
	twoWords = 16                    // longest key read as two words
	longKey  = 0xfeed_face_cafe_f00d // b of a key longer than shortKey (a short key may have it too)
	minIndex = 64                    // places in a new cache's index
)

// Value returns the slot's value and whether the key has one.
func (s *Slot[V]) Value() (V, bool) { return s.value, s.present }

// NewCache returns a cache over backend that holds at most maxEntries values
// (DefaultCacheEntries when maxEntries <= 0). encode and decode are the value serde.
func NewCache[V any](backend Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), maxEntries int) *Cache[V] {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	maxEntries = min(maxEntries, 1<<31) // positions are 32-bit
	seed := maphash.MakeSeed()
	batch, _ := backend.(Batcher)
	return &Cache[V]{
		backend: backend, batch: batch, encode: encode, decode: decode, maxEntries: maxEntries,
		limit: ScaledBound(maxEntries, CacheShare()),
		index: make([]uint64, minIndex),
		seed:  seed, k0: maphash.Bytes(seed, []byte{0}), k1: maphash.Bytes(seed, []byte{1}), k2: maphash.Bytes(seed, []byte{2}),
	}
}

// Slot returns the place for key, reading its value through from the backend on
// a miss. Reading a slot changes nothing; Set does. An aggregation reads the slot,
// runs the user's functions, and only then Sets the result, so a record that fails
// half-way leaves the store as it was. The slot is valid until the next call on
// the cache.
//
// Slot is find written out in full, with the key's hash computed inline, to save
// two calls on the hot path of every aggregation.
func (c *Cache[V]) Slot(key []byte) (*Slot[V], error) {
	var a, b, w, h uint64
	if len(key) <= shortKey {
		a, b, w = words(key)
		h = c.shortHash(a, b, w, len(key))
	} else {
		h = maphash.Bytes(c.seed, key)
		a, b = h, longKey
	}
	tag := h >> 32
	mask := uint64(len(c.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		p := c.index[i]
		if p == 0 {
			return c.load(key, int(i))
		}
		if p>>32 == tag {
			s := &c.slots[uint32(p)-1]
			if s.a == a && s.b == b && s.c == w && len(s.key) == len(key) && (len(key) <= shortKey || s.key == string(key)) {
				return s, nil
			}
		}
	}
}

// find looks key up. It returns its slot, or nil and the empty place of the
// index where the probe stopped, which is where the key goes.
func (c *Cache[V]) find(key []byte) (*Slot[V], int) {
	a, b, w, h := c.keyHash(key)
	tag := h >> 32
	mask := uint64(len(c.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		p := c.index[i]
		if p == 0 {
			return nil, int(i)
		}
		if p>>32 != tag {
			continue
		}
		// A matching tag is almost always the key; confirm it. Equal words and
		// length make equal short keys; a long key's bytes are compared too.
		s := &c.slots[uint32(p)-1]
		if s.a == a && s.b == b && s.c == w && len(s.key) == len(key) && (len(key) <= shortKey || s.key == string(key)) {
			return s, 0
		}
	}
}

// keyHash returns what a slot keeps of key to recognize it (a, b, w) and its hash.
func (c *Cache[V]) keyHash(key []byte) (a, b, w, h uint64) {
	if len(key) > shortKey {
		h = maphash.Bytes(c.seed, key)
		return h, longKey, 0, h
	}
	a, b, w = words(key)
	return a, b, w, c.shortHash(a, b, w, len(key))
}

// shortHash is the hash of a short key of length n from its words: one
// multiply-fold of the first two, and a second one with the third for a key
// of more than two words.
func (c *Cache[V]) shortHash(a, b, w uint64, n int) uint64 {
	hi, lo := bits.Mul64(a^c.k0, b^c.k1^uint64(n))
	if n > twoWords {
		hi, lo = bits.Mul64(hi^lo^c.k2, w^c.k1)
	}
	return hi ^ lo
}

// words reads a key of at most 24 bytes as three words that, with its length,
// determine it: its first 8, next 8 and last 8 bytes (overlapping below 24);
// below 17 bytes, its first and last 8 bytes (overlapping below 16), first and
// last 4 (below 8), or first, middle and last byte (below 4), and 0. Reading
// words instead of bytes is what makes short keys cheap to hash and compare.
func words(k []byte) (a, b, w uint64) {
	switch n := len(k); {
	case n > twoWords:
		return binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[8:]), binary.LittleEndian.Uint64(k[n-8:])
	case n >= 8:
		return binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[n-8:]), 0
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(k)), uint64(binary.LittleEndian.Uint32(k[n-4:])), 0
	case n > 0:
		return uint64(k[0])<<16 | uint64(k[n/2])<<8 | uint64(k[n-1]), 0, 0
	}
	return 0, 0, 0
}

// load reads key, which find missed at place, through from the backend into a
// new slot.
func (c *Cache[V]) load(key []byte, place int) (*Slot[V], error) {
	raw, found, err := c.backend.Get(key)
	if err != nil {
		return nil, err
	}
	var v V
	if found {
		// A backend's result is valid only until its next call, and decoders may
		// alias their input, so the cache keeps its own copy (one allocation per miss).
		if v, err = c.decode(bytes.Clone(raw)); err != nil {
			return nil, fmt.Errorf("decode stored value: %w", err)
		}
	}
	return c.insert(key, place, v, found, false)
}

// Set gives slot s (from Slot, with no cache call since) the value v; the backend
// sees it at the next Flush.
func (c *Cache[V]) Set(s *Slot[V], v V) {
	s.value, s.present = v, true
	if !s.dirty {
		c.markDirty(s)
	}
}

// Get returns the value under key, reading through to the backend on a miss. A
// key the backend does not have is not cached.
func (c *Cache[V]) Get(key []byte) (V, bool, error) {
	s, place := c.find(key)
	if s != nil {
		return s.value, s.present, nil
	}
	return c.getMiss(key, place)
}

// getMiss is Get for a key find missed at place: kept apart so that Get, and
// TimestampedCache.GetTimed, stay small enough to inline.
func (c *Cache[V]) getMiss(key []byte, place int) (V, bool, error) {
	var zero V
	raw, found, err := c.backend.Get(key)
	if err != nil || !found {
		return zero, false, err
	}
	v, err := c.decode(bytes.Clone(raw))
	if err != nil {
		return zero, false, fmt.Errorf("decode stored value: %w", err)
	}
	if _, err := c.insert(key, place, v, true, false); err != nil {
		return zero, false, err
	}
	return v, true, nil
}

// Put sets the value under key; the backend sees it at the next Flush.
func (c *Cache[V]) Put(key []byte, v V) error {
	s, place := c.find(key)
	if s != nil {
		c.Set(s, v)
		return nil
	}
	_, err := c.insert(key, place, v, true, true)
	return err
}

// Delete removes key; the backend sees it at the next Flush.
func (c *Cache[V]) Delete(key []byte) error {
	s, place := c.find(key)
	if s != nil {
		var zero V
		s.value, s.present = zero, false
		if !s.dirty {
			c.markDirty(s)
		}
		return nil
	}
	var zero V
	_, err := c.insert(key, place, zero, false, true)
	return err
}

// markDirty adds s, clean until now, to the dirty list.
func (c *Cache[V]) markDirty(s *Slot[V]) {
	s.dirty = true
	c.dirty = append(c.dirty, s.pos)
}

// insert adds a slot for key, which find missed at place, first making room by
// flushing and emptying the cache when it is full (a full flush is cheaper per
// entry than tracking recency).
func (c *Cache[V]) insert(key []byte, place int, v V, present, dirty bool) (*Slot[V], error) {
	a, b, w, h := c.keyHash(key)
	if len(c.slots) >= c.limit {
		if err := c.fill(); err != nil {
			return nil, err
		}
		place = c.empty(h) // the index was rebuilt
	}
	if (len(c.slots)+1)*4 > len(c.index)*3 {
		c.grow()
		place = c.empty(h)
	}
	pos := len(c.slots)
	c.slots = append(c.slots, Slot[V]{a: a, b: b, c: w, key: c.keys.add(key), pos: uint32(pos), value: v, present: present})
	c.index[place] = h>>32<<32 | uint64(pos+1)
	s := &c.slots[pos]
	if dirty {
		c.markDirty(s) // listed only once the slot is in the cache
	}
	return s, nil
}

// fill makes room in a full cache, first taking up the share in force, which
// may have changed since the last Flush (a raised share needs no room made).
func (c *Cache[V]) fill() error {
	c.limit = ScaledBound(c.maxEntries, CacheShare())
	if len(c.slots) < c.limit {
		return nil
	}
	return c.makeRoom()
}

// makeRoom empties a full cache after flushing it, or lets evict make room.
func (c *Cache[V]) makeRoom() error {
	if c.evict != nil {
		return c.evict()
	}
	if err := c.flushDirty(); err != nil {
		return err
	}
	clear(c.slots) // drop the values, so they can be collected
	c.slots = c.slots[:0]
	c.keys.reset() // no slot refers to the keys any more
	clear(c.index)
	c.moves++
	return nil
}

// empty is the first empty place of the index on the probe of hash h.
func (c *Cache[V]) empty(h uint64) int {
	mask := uint64(len(c.index) - 1)
	i := h & mask
	for c.index[i] != 0 {
		i = (i + 1) & mask
	}
	return int(i)
}

// grow doubles the index, placing every slot again by its hash.
func (c *Cache[V]) grow() {
	c.index = make([]uint64, 2*len(c.index))
	c.placeAll()
}

// placeAll places every slot in the empty index by its hash.
func (c *Cache[V]) placeAll() {
	for pos := range c.slots {
		s := &c.slots[pos]
		h := s.a // a long key's hash
		if len(s.key) <= shortKey {
			h = c.shortHash(s.a, s.b, s.c, len(s.key))
		}
		c.index[c.empty(h)] = h>>32<<32 | uint64(pos+1)
	}
}

// Flush writes every changed entry to the backend, in the order the entries
// first changed. If a write fails, the entries not yet written stay dirty, so a
// later Flush retries them. Then the cache takes up the process's cache share
// (cache_share.go), shrinking if it holds more than that allows.
func (c *Cache[V]) Flush() error {
	if err := c.flushDirty(); err != nil {
		return err
	}
	return c.applyShare()
}

// flushDirty writes every changed entry to the backend (see Flush).
func (c *Cache[V]) flushDirty() error {
	c.moves++
	for i, pos := range c.dirty {
		s := &c.slots[pos]
		if err := c.write(s); err != nil {
			c.dirty = c.dirty[:copy(c.dirty, c.dirty[i:])]
			return c.endWrites(err)
		}
		s.dirty = false
	}
	c.dirty = c.dirty[:0]
	return c.endWrites(nil)
}

// keyArena holds the bytes of the cached keys: a slot's key is a string
// into one of its chunks. Keys arriving after an eviction reuse the chunks,
// so a cache whose keys outnumber its bound allocates nothing per new key
// (it did one string per key). Safe because the keys never leave the cache:
// Flush lends them to the backend, which copies what it keeps, and an
// eviction drops every slot before the arena is reset.
type keyArena struct {
	chunks [][]byte // filled in order; chunks[cur] is being filled
	cur    int
	used   int // bytes of the keys added since the last reset
}

const (
	minKeyChunk = 1 << 10  // the first chunk, for small caches
	maxKeyChunk = 64 << 10 // chunks double up to this
)

// add copies key into the arena and returns it as a string.
func (a *keyArena) add(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	if len(key) > maxKeyChunk/4 {
		return string(key) // a rare huge key gets its own allocation
	}
	a.used += len(key)
	for ; a.cur < len(a.chunks); a.cur++ {
		if c := a.chunks[a.cur]; cap(c)-len(c) >= len(key) {
			n := len(c)
			a.chunks[a.cur] = append(c, key...)
			return unsafe.String(&a.chunks[a.cur][n], len(key))
		}
	}
	size := minKeyChunk
	if n := len(a.chunks); n > 0 {
		size = min(2*cap(a.chunks[n-1]), maxKeyChunk)
	}
	a.chunks = append(a.chunks, append(make([]byte, 0, size), key...))
	return unsafe.String(&a.chunks[a.cur][0], len(key))
}

// reset empties the arena, keeping its chunks for the next keys.
func (a *keyArena) reset() {
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur, a.used = 0, 0
}

// Len is the number of cached entries.
func (c *Cache[V]) Len() int { return len(c.slots) }
