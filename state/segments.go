package state

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"unsafe"
)

// This file is what the window and session stores share: a typed write-back
// Cache in front of an OrderedBackend whose keys are laid out by time segment,
//
//	segment (8 bytes) | len(key) (uvarint) | key | time (8 bytes) [| time (8 bytes)]
//
// (times as appendTime writes them, so they sort as numbers). A window is keyed
// by its start, a session by its end then its start; the segment is the first
// time divided by the segment interval. So:
//
//   - one key's entries over a time range, within one segment, are one ordered
//     scan (the length prefix keeps a key's entries apart from a longer key's);
//   - the entries of the segments that expired are one key range at the start of
//     the store, removed with one DeleteRange (not logged: the changelog topic's
//     own retention drops them, as in Kafka Streams).
//
// The changelog (state.Logged under the store) carries these keys, so replaying
// it into an empty backend rebuilds the same layout. Entries it still holds for
// expired segments are removed again by the first Expire after a restore, and
// queries never return entries older than the retention.
//
// The cache is keyed by key | times only (shorter, so faster to hash and
// compare); storeKeys adds the segment and length when the cache reads or
// writes the backend. Queries must see the cache's unflushed writes without
// scanning the cache: an index lists the dirty slots of each key (by the key's
// hash), so a query merges the few dirty entries of its key with the
// backend's scan.

// DefaultSegmentInterval is Kafka Streams' rule for the segment interval of a
// store retaining retention milliseconds: max(retention/2, 60 s).
func DefaultSegmentInterval(retention int64) int64 { return max(retention/2, 60_000) }

// timed is a stored value with the latest record timestamp that contributed to
// it. In the backend: the timestamp (8 bytes), then the encoded value.
type timed[V any] struct {
	v  V
	ts int64
}

// errStop ends a Scan early; it never leaves this package.
var errStop = errors.New("stop")

// segmented is the store core; times is the number of times after the key (1
// for windows, 2 for sessions).
type segmented[V any] struct {
	b         OrderedBackend
	batchErr  error // a write of the batch being collected that failed (storeKeys)
	cache     *Cache[timed[V]]
	decode    func([]byte) (V, error)
	interval  int64 // segment interval, ms
	retention int64 // ms
	times     int

	// firstLive is the first segment Expire kept (math.MinInt64 before the first
	// Expire), and minTime the first time it kept: queries start there.
	firstLive, minTime int64
	// expireAt is the stream time from which expire has a segment to remove:
	// below it, it only moves minTime on (math.MinInt64: unknown, always check).
	expireAt int64
	// lastSeg is at least the last segment with entries, once lastKnown.
	lastSeg   int64
	lastKnown bool
	// An entry with a first time from fresh on is in the backend only if it is
	// cached, so a miss there needs no backend read (a new window, the common
	// case). The store is its backend's only writer: what it writes comes
	// from the cache, and leaves the cache only by expiry (the backend loses it
	// too) or by eviction, which moves fresh past what it evicts. It starts
	// after the last segment the backend holds (freshKnown).
	fresh      int64
	freshKnown bool

	// The dirty index: heads[hash of key] is the position + 1 of the last slot of
	// a key with that hash to become dirty, next[pos] the position + 1 of the one
	// before it (0 ends the list). It lists exactly the positions in
	// cache.dirty[:indexed] while positions have not moved since it was built
	// (built == cache.moves). It is brought up to date by a query only
	// (indexDirty), not as slots become dirty: a tumbling or hopping count never
	// queries, and would otherwise hash and index every window it changes.
	seed    maphash.Seed
	heads   map[uint64]uint32
	next    []uint32
	indexed int
	built   uint64

	kbuf  []byte     // the cache key being built
	skbuf []byte     // the store key being built
	hits  []hit      // a query's dirty entries
	found []entry[V] // a query's results
	ebuf  []byte     // the scan bounds being built

	ebufLo, ebufHi []byte // a join fetch's time bounds (joinstore.go)
}

// hit is a dirty cache entry a query matched.
type hit struct {
	pos    uint32
	suffix []byte // the times, in the slot's key
}

// entry is one result of a query: its times and value.
type entry[V any] struct {
	t1, t2 int64
	v      timed[V]
}

func newSegmented[V any](b Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error),
	retention, interval int64, times, maxEntries int) *segmented[V] {
	if interval <= 0 {
		interval = DefaultSegmentInterval(retention)
	}
	s := &segmented[V]{
		b: orderedOrNot(b), decode: decode, interval: interval, retention: retention, times: times,
		firstLive: math.MinInt64, minTime: math.MinInt64, lastSeg: math.MinInt64, expireAt: math.MinInt64,
		seed: maphash.MakeSeed(), heads: map[uint64]uint32{},
	}
	s.cache = NewCache[timed[V]](storeKeys[V]{s}, func(dst []byte, t timed[V]) ([]byte, error) {
		return encode(appendTime(dst, t.ts), t.v)
	}, s.decodeTimed, maxEntries)
	s.cache.evict = s.evict
	return s
}

// evict makes room in the full cache (cache_evict.go): it drops the expired
// entries and then the oldest ones, down to three quarters of the cache's
// limit (its bound under the cache share).
func (s *segmented[V]) evict() error {
	newest, err := s.cache.evictOldest(s.time, s.minTime, s.cache.limit*3/4)
	if err == nil && newest >= s.fresh {
		s.fresh = newest + 1
		if newest == math.MaxInt64 {
			s.fresh = newest // nothing is fresh any more but MaxInt64 itself: rare enough
		}
	}
	return err
}

// time is the first time of a cache key: what expiry and eviction go by.
func (s *segmented[V]) time(k string) int64 {
	return readTime(bytesOf(k)[len(k)-8*s.times:])
}

func (s *segmented[V]) decodeTimed(b []byte) (timed[V], error) {
	if len(b) < 8 {
		return timed[V]{}, fmt.Errorf("stored value has %d bytes, want at least 8 (timestamp)", len(b))
	}
	v, err := s.decode(b[8:])
	return timed[V]{v: v, ts: readTime(b)}, err
}

// segment is the segment of time t.
func (s *segmented[V]) segment(t int64) int64 {
	q := t / s.interval
	if t%s.interval < 0 {
		q-- // floor, for times before the epoch
	}
	return q
}

// key builds the cache key of key at times t (t2 only for sessions) in s.kbuf:
// the key then the times, with neither segment nor length, which the fixed
// width of the times makes unnecessary. Keeping it short keeps the cache fast
// (a key of up to 8 bytes makes a cache key of 16, which the cache hashes and
// compares as two words); storeKeys adds them on the way to the backend.
func (s *segmented[V]) key(key []byte, t1, t2 int64) []byte {
	b := appendTime(append(s.kbuf[:0], key...), t1)
	if s.times == 2 {
		b = appendTime(b, t2)
	}
	s.kbuf = b
	return b
}

// splitCached returns the key and the times of a cache key.
func (s *segmented[V]) splitCached(k []byte) (key, suffix []byte) {
	n := len(k) - 8*s.times
	return k[:n], k[n:]
}

// storeKeys is the backend as the cache sees it: cache keys in, store keys
// out (segment and key length added), on a miss and at Flush only.
type storeKeys[V any] struct{ s *segmented[V] }

func (b storeKeys[V]) storeKey(k []byte) []byte {
	s := b.s
	key, suffix := s.splitCached(k)
	s.skbuf = append(s.prefix(s.skbuf[:0], s.segment(readTime(suffix)), key), suffix...)
	return s.skbuf
}

func (b storeKeys[V]) Get(k []byte) ([]byte, bool, error) { return b.s.b.Get(b.storeKey(k)) }
func (b storeKeys[V]) Put(k, v []byte) error              { return b.s.b.Put(b.storeKey(k), v) }
func (b storeKeys[V]) Delete(k []byte) error              { return b.s.b.Delete(b.storeKey(k)) }

// BatchPut, BatchDelete and WriteBatch implement Batcher: the cache's flush
// writes a batch where the store's backend takes one.
func (b storeKeys[V]) BatchPut(k, v []byte) {
	if bb, ok := b.s.b.(Batcher); ok {
		bb.BatchPut(b.storeKey(k), v)
	} else if err := b.s.b.Put(b.storeKey(k), v); err != nil {
		b.s.batchErr = cmp.Or(b.s.batchErr, err)
	}
}

func (b storeKeys[V]) BatchDelete(k []byte) {
	if bb, ok := b.s.b.(Batcher); ok {
		bb.BatchDelete(b.storeKey(k))
	} else if err := b.s.b.Delete(b.storeKey(k)); err != nil {
		b.s.batchErr = cmp.Or(b.s.batchErr, err)
	}
}

func (b storeKeys[V]) WriteBatch() error {
	var err error
	if bb, ok := b.s.b.(Batcher); ok {
		err = bb.WriteBatch()
	}
	err, b.s.batchErr = cmp.Or(b.s.batchErr, err), nil
	return err
}

// Range is not used by the cache.
func (b storeKeys[V]) Range(func(k, v []byte) error) error {
	return errors.New("state: segmented store: Range through the cache")
}

// prefix appends the segment and key part of a store key.
func (s *segmented[V]) prefix(dst []byte, seg int64, key []byte) []byte {
	dst = appendTime(dst, seg)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

// split returns the key and the times of a store key.
func split(k []byte) (key, suffix []byte, ok bool) {
	if len(k) < 9 {
		return nil, nil, false
	}
	n, w := binary.Uvarint(k[8:])
	if w <= 0 || uint64(len(k)-8-w) < n {
		return nil, nil, false
	}
	return k[8+w : 8+w+int(n)], k[8+w+int(n):], true
}

// slot returns key's slot at times t1, t2, loading it from the backend on a
// miss when load is set (otherwise a miss gives an empty slot).
func (s *segmented[V]) slot(key []byte, t1, t2 int64, load bool) (*Slot[timed[V]], error) {
	if !s.freshKnown {
		if err := s.findFresh(); err != nil {
			return nil, err
		}
	}
	k := s.key(key, t1, t2)
	var sl *Slot[timed[V]]
	var err error
	if load && t1 < s.fresh {
		sl, err = s.cache.Slot(k)
	} else {
		var place int
		if sl, place = s.cache.find(k); sl == nil {
			sl, err = s.cache.insert(k, place, timed[V]{}, false, false)
		}
	}
	return sl, err
}

// findFresh sets fresh to the start of the segment after the last one the
// backend holds (one seek per segment it holds, once).
func (s *segmented[V]) findFresh() error {
	last, err := s.lastSegment()
	if err != nil {
		return fmt.Errorf("find the last segment: %w", err)
	}
	switch {
	case last == math.MaxInt64 || last > 0 && last >= math.MaxInt64/s.interval:
		s.fresh = math.MaxInt64
	case last+1 < 0 && last+1 < math.MinInt64/s.interval:
		s.fresh = math.MinInt64 // an empty backend (last is math.MinInt64)
	default:
		s.fresh = (last + 1) * s.interval
	}
	s.freshKnown = true
	return nil
}

// set gives sl the value v (present) or removes it.
func (s *segmented[V]) set(sl *Slot[timed[V]], v timed[V], present bool) {
	if !sl.dirty {
		s.cache.markDirty(sl)
		_, suffix := s.splitCached(bytesOf(sl.key))
		s.lastSeg = max(s.lastSeg, s.segment(readTime(suffix)))
	}
	sl.value, sl.present = v, present
}

// index adds the slot at pos to the dirty index.
func (s *segmented[V]) index(pos uint32) {
	key, _ := s.splitCached(bytesOf(s.cache.slots[pos].key))
	h := maphash.Bytes(s.seed, key)
	for int(pos) >= len(s.next) {
		s.next = append(s.next, 0)
	}
	s.next[pos] = s.heads[h]
	s.heads[h] = pos + 1
	s.indexed++
}

// indexDirty brings the dirty index up to date with the cache's dirty list:
// it indexes the slots that became dirty since it last ran, or all of them
// again if the cache moved slots or rewrote its dirty list since (a flush, an
// expiry, an eviction).
func (s *segmented[V]) indexDirty() {
	if s.built != s.cache.moves {
		if s.indexed > 0 {
			clear(s.heads)
		}
		s.indexed, s.built = 0, s.cache.moves
	}
	for _, pos := range s.cache.dirty[s.indexed:] {
		s.index(pos)
	}
}

// flush writes the cache's changes to the backend.
func (s *segmented[V]) flush() error { return s.cache.Flush() }

// expire removes the segments whose entries all have a first time before
// streamTime - retention + 1, from the backend with one range removal and from
// the cache. It does nothing until that moves into a new segment, and then
// costs a comparison (it is called for every record).
func (s *segmented[V]) expire(streamTime int64) error {
	if streamTime < s.expireAt && streamTime >= math.MinInt64+s.retention {
		s.minTime = max(s.minTime, streamTime-s.retention+1)
		return nil
	}
	return s.expireSegments(streamTime)
}

// expireSegments is expire past its fast path: it divides to find the first
// live segment and removes the ones before it.
func (s *segmented[V]) expireSegments(streamTime int64) error {
	minTime := streamTime - s.retention + 1
	if streamTime < math.MinInt64+s.retention {
		minTime = math.MinInt64
	}
	s.minTime = max(s.minTime, minTime)
	live := s.segment(s.minTime)
	if live <= s.firstLive {
		s.nextExpiry()
		return nil
	}
	// From the start of the store, not from the last segment removed: one range
	// either way, and it also removes what a restore brought back from before,
	// and a late write to an expired window that the caller let through.
	if err := s.b.DeleteRange(nil, appendTime(nil, live)); err != nil {
		return fmt.Errorf("expire segments before %d: %w", live, err)
	}
	s.cache.drop(func(sl *Slot[timed[V]]) bool {
		_, suffix := s.splitCached(bytesOf(sl.key))
		return s.segment(readTime(suffix)) < live
	})
	s.firstLive = live
	s.nextExpiry()
	return nil
}

// nextExpiry sets expireAt: the first live segment moves on once minTime
// reaches the start of the next segment, (firstLive+1)·interval, that is once
// stream time reaches that + retention - 1. Where that overflows, expire
// always checks.
func (s *segmented[V]) nextExpiry() {
	s.expireAt = math.MinInt64
	if s.firstLive <= math.MinInt64/s.interval || s.firstLive >= math.MaxInt64/s.interval-1 {
		return
	}
	if next := (s.firstLive + 1) * s.interval; next <= math.MaxInt64-s.retention {
		s.expireAt = next + s.retention - 1
	}
}

// query collects into s.found key's entries in segments [seg0, seg1] whose times
// lie in [lo, hi) (hi nil: no bound) and pass keep, in time order, the cache's
// unflushed writes included.
func (s *segmented[V]) query(key []byte, seg0, seg1 int64, lo, hi []byte, keep func(t1, t2 int64) bool) error {
	s.found = s.found[:0]
	s.dirtyHits(key, lo, hi, keep)
	next := 0 // the next hit to merge
	emit := func(suffix []byte, v timed[V], present bool) {
		if present {
			e := entry[V]{t1: readTime(suffix), v: v}
			if s.times == 2 {
				e.t2 = readTime(suffix[8:])
			}
			s.found = append(s.found, e)
		}
	}
	visit := func(k, raw []byte) error {
		_, suffix, ok := split(k)
		if !ok || len(suffix) != 8*s.times || !keep(readTime(suffix), s.t2(suffix)) {
			return nil
		}
		for ; next < len(s.hits) && bytes.Compare(s.hits[next].suffix, suffix) <= 0; next++ {
			h := s.hits[next]
			sl := &s.cache.slots[h.pos]
			emit(h.suffix, sl.value, sl.present)
			if bytes.Equal(h.suffix, suffix) {
				next++
				return nil // the cache's value replaces the backend's
			}
		}
		v, err := s.decodeTimed(bytes.Clone(raw)) // decoders may alias their input
		if err != nil {
			return fmt.Errorf("decode stored value: %w", err)
		}
		emit(suffix, v, true)
		return nil
	}
	err := s.eachSegment(seg0, seg1, func(seg int64) error {
		// Both bounds in s.ebuf: [key prefix | lo][key prefix | hi].
		b := append(s.prefix(s.ebuf[:0], seg, key), lo...)
		n := len(b)
		b = s.prefix(b, seg, key)
		if hi != nil {
			b = append(b, hi...)
		}
		s.ebuf = b
		to := b[n:]
		if hi == nil {
			to = prefixEnd(to)
		}
		return s.b.Scan(b[:n], to, visit)
	})
	for ; err == nil && next < len(s.hits); next++ {
		h := s.hits[next]
		sl := &s.cache.slots[h.pos]
		emit(h.suffix, sl.value, sl.present)
	}
	return err
}

func (s *segmented[V]) t2(suffix []byte) int64 {
	if s.times == 2 {
		return readTime(suffix[8:])
	}
	return 0
}

// dirtyHits collects into s.hits the dirty slots of key whose times lie in
// [lo, hi) and pass keep, sorted by times.
func (s *segmented[V]) dirtyHits(key, lo, hi []byte, keep func(t1, t2 int64) bool) {
	s.indexDirty()
	s.hits = s.hits[:0]
	for p := s.heads[maphash.Bytes(s.seed, key)]; p != 0; p = s.next[p-1] {
		kk, suffix := s.splitCached(bytesOf(s.cache.slots[p-1].key))
		if !bytes.Equal(kk, key) || bytes.Compare(suffix, lo) < 0 || (hi != nil && bytes.Compare(suffix, hi) >= 0) ||
			!keep(readTime(suffix), s.t2(suffix)) {
			continue
		}
		s.hits = append(s.hits, hit{pos: p - 1, suffix: suffix})
	}
	slices.SortFunc(s.hits, func(a, b hit) int { return bytes.Compare(a.suffix, b.suffix) })
}

// eachSegment calls fn for the segments in [first, last] that may hold entries:
// every one up to the last segment written when there are few, else the ones
// the backend has, found by seeking.
func (s *segmented[V]) eachSegment(first, last int64, fn func(seg int64) error) error {
	lastSeg, err := s.lastSegment()
	if err != nil {
		return err
	}
	first, last = max(first, s.firstLive), min(last, lastSeg)
	if last < first {
		return nil
	}
	if uint64(last-first) < 4 { // the difference as unsigned: no overflow
		for seg := first; ; seg++ {
			if err := fn(seg); err != nil || seg == last {
				return err
			}
		}
	}
	for seg := first; ; seg++ {
		next, ok, err := s.nextSegment(seg, last)
		if err != nil || !ok {
			return err
		}
		if err := fn(next); err != nil || next == last {
			return err
		}
		seg = next
	}
}

// nextSegment returns the first segment in [from, last] with entries in the
// backend (one seek).
func (s *segmented[V]) nextSegment(from, last int64) (seg int64, found bool, err error) {
	var to []byte
	if last < math.MaxInt64 {
		to = appendTime(nil, last+1)
	}
	err = s.b.Scan(appendTime(nil, from), to, func(k, _ []byte) error {
		seg, found = readTime(k), true
		return errStop
	})
	if err == errStop {
		err = nil
	}
	return seg, found, err
}

// lastSegment is the last segment that may hold entries: the last one the
// backend held when first asked (found by seeking from segment to segment), or
// a later one written since (set keeps lastSeg up to date). Queries stop there,
// so a session query, whose ends have no upper bound, scans only the segments
// that exist.
func (s *segmented[V]) lastSegment() (int64, error) {
	if s.lastKnown {
		return s.lastSeg, nil
	}
	for seg := s.firstLive; ; seg++ {
		next, ok, err := s.nextSegment(seg, math.MaxInt64)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		s.lastSeg = max(s.lastSeg, next)
		if next == math.MaxInt64 {
			break
		}
		seg = next
	}
	s.lastKnown = true
	return s.lastSeg, nil
}

// bytesOf lends the bytes of a cache key, which nobody writes to. An empty
// key is an empty slice, not nil: a nil key is a null key to Kafka, which a
// compacted changelog topic rejects (and a real broker does; kfake does not).
func bytesOf(s string) []byte {
	if len(s) == 0 {
		return emptyKey
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

var emptyKey = []byte{}

// prefixEnd is the first key after every key starting with p (nil: none).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// results calls fn for each result of the last query; fn may call the store
// (but not run another query).
func (s *segmented[V]) results(fn func(e *entry[V]) error) error {
	for i := range s.found {
		if err := fn(&s.found[i]); err != nil {
			return err
		}
	}
	return nil
}

// unordered stands for a backend that cannot scan: its queries and expiry fail.
type unordered struct{ Backend }

func (u unordered) Scan([]byte, []byte, func(key, value []byte) error) error {
	return fmt.Errorf("%w: %T", ErrNotOrdered, u.Backend)
}

func (u unordered) DeleteRange([]byte, []byte) error {
	return fmt.Errorf("%w: %T", ErrNotOrdered, u.Backend)
}

func orderedOrNot(b Backend) OrderedBackend {
	if o, ok := b.(OrderedBackend); ok {
		return o
	}
	return unordered{b}
}
