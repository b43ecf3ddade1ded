package state

import (
	"fmt"
	"math"
)

// WindowSpec describes a window store. Times are milliseconds.
type WindowSpec struct {
	Size int64 // window size
	// Retention is how long a window stays after its start: size + grace. A
	// window with start < stream time - Retention + 1 can no longer be updated
	// or read, and Expire removes it.
	Retention int64
	// SegmentInterval is the time span of one segment (0: Kafka Streams' rule,
	// DefaultSegmentInterval). Expiry removes whole segments, so a window
	// outlives its retention by up to one interval on disk (never in queries).
	// Changing it changes the key layout: the changelog and snapshots of a store
	// must be read with the interval they were written with.
	SegmentInterval int64
}

// WindowStore is the store of a windowed aggregation: one value per key and
// window start, typed, behind a write-back Cache, in an OrderedBackend laid out
// by time segment (segments.go). Generated code reads a window with Slot and
// writes it with Set (with no allocation when the window is cached), lists a
// key's windows with Fetch (sliding windows), calls Expire as stream time
// advances and Flush at every commit.
//
// A full cache evicts its oldest windows, not all of them (cache_evict.go):
// the expired ones without writing them (nobody may read them again), then
// the oldest live ones, written to the backend first. A window newer than
// anything evicted, and than the backend's last segment when the store was
// made, is not looked up in the backend on a miss: it cannot be there, and
// most windows of a hopping or tumbling count are new ones. The store must
// therefore be its backend's only writer once made (a restore happens
// before).
type WindowStore[V any] struct {
	s    *segmented[V]
	size int64
}

// WindowSlot is the cache's place for one window, from WindowStore.Slot.
type WindowSlot[V any] Slot[timed[V]]

// Value returns the window's value and whether it has one.
func (s *WindowSlot[V]) Value() (V, bool) { return s.value.v, s.present }

// Timestamp is the latest timestamp of the records that contributed to the
// window: the timestamp of its result record.
func (s *WindowSlot[V]) Timestamp() int64 { return s.value.ts }

// NewWindowStore returns a window store over b (an OrderedBackend: queries and
// expiry fail otherwise) with a cache of at most maxEntries windows
// (DefaultCacheEntries when maxEntries <= 0). encode and decode are the value
// serde. It panics on a spec the compiler would have refused (size or retention
// not positive, retention below size).
func NewWindowStore[V any](b Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), spec WindowSpec, maxEntries int) *WindowStore[V] {
	if spec.Size <= 0 || spec.Retention < spec.Size {
		panic(fmt.Sprintf("state: window store: size %d and retention %d: want 0 < size <= retention", spec.Size, spec.Retention))
	}
	return &WindowStore[V]{s: newSegmented(b, encode, decode, spec.Retention, spec.SegmentInterval, 1, maxEntries), size: spec.Size}
}

// Slot returns the place of key's window starting at start, reading it from the
// backend on a miss. As with Cache.Slot, reading changes nothing; Set does. The
// slot is valid until the next call on the store.
func (w *WindowStore[V]) Slot(key []byte, start int64) (*WindowSlot[V], error) {
	sl, err := w.s.slot(key, start, 0, true)
	return (*WindowSlot[V])(sl), err
}

// Set gives the window of slot (from Slot, with no store call since) the value
// v; its timestamp becomes the larger of ts and the one it had. The backend sees
// it at the next Flush.
func (w *WindowStore[V]) Set(slot *WindowSlot[V], v V, ts int64) {
	sl := (*Slot[timed[V]])(slot)
	if sl.present {
		ts = max(ts, sl.value.ts)
	}
	w.s.set(sl, timed[V]{v: v, ts: ts}, true)
}

// Delete removes key's window starting at start; the backend sees it at the next Flush.
func (w *WindowStore[V]) Delete(key []byte, start int64) error {
	sl, err := w.s.slot(key, start, 0, false)
	if err != nil {
		return err
	}
	w.s.set(sl, timed[V]{}, false)
	return nil
}

// Fetch calls fn for each of key's windows with fromStart <= start <= toStart,
// in start order, the cache's unflushed changes included, until fn returns an
// error. Expired windows are not listed. fn may call Slot, Set and Delete (it
// sees the windows as they were when Fetch began) but not Fetch.
func (w *WindowStore[V]) Fetch(key []byte, fromStart, toStart int64, fn func(start int64, v V, ts int64) error) error {
	s := w.s
	fromStart = max(fromStart, s.minTime)
	if fromStart > toStart {
		return nil
	}
	lo := appendTime(nil, fromStart)
	var hi []byte // exclusive
	if toStart < math.MaxInt64 {
		hi = appendTime(nil, toStart+1)
	}
	all := func(int64, int64) bool { return true }
	if err := s.query(key, s.segment(fromStart), s.segment(toStart), lo, hi, all); err != nil {
		return fmt.Errorf("fetch windows: %w", err)
	}
	return s.results(func(e *entry[V]) error { return fn(e.t1, e.v.v, e.v.ts) })
}

// Expire removes the windows that can no longer be updated or read, those with
// start < streamTime - Retention + 1, a whole segment at a time, from the
// backend (one range removal, not logged) and from the cache. Call it as stream
// time advances; it costs nothing until a segment expires.
func (w *WindowStore[V]) Expire(streamTime int64) error { return w.s.expire(streamTime) }

// Flush writes the changed windows to the backend.
func (w *WindowStore[V]) Flush() error { return w.s.flush() }

// Size is the window size of the store's spec.
func (w *WindowStore[V]) Size() int64 { return w.size }

// Len is the number of cached windows.
func (w *WindowStore[V]) Len() int { return w.s.cache.Len() }
