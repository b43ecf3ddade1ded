package state

import (
	"container/heap"
	"fmt"
	"slices"
)

// SuppressBuffer holds the pending results of an emit-final suppression
// (Suppress(UntilWindowCloses()) or UntilTimeLimit): at most one per key, each
// with the time it may be emitted at (its close time), emitted in close-time
// order once time passes it. Like Kafka Streams' in-memory time-ordered buffer,
// the entries live in memory (a map by key and a heap by close time) and the
// backend is their durable copy:
//
//	Put ─▶ entries (map) + byTime (heap of close times, the keys of each in a bucket) ─Flush: changed keys─▶ backend ─▶ changelog (state.Logged)
//	EvictUntil ─▶ fn(key, value, ts), then the entry is gone; Flush deletes it from the backend
//
// In the backend an entry is key ─▶ close time (8 bytes) | timestamp (8 bytes) |
// value, so replaying the changelog, or restoring a snapshot, restores the
// buffer, and the buffer reads it back at its first call: a restart loses no
// pending result. Its memory is its entries (at most one per key and open window); it is
// not bounded by the cache budget, as an emit-final result cannot be dropped.
type SuppressBuffer struct {
	b       Backend
	loaded  bool
	loadErr error // why reading the backend failed: every call returns it
	// entries holds the buffered results, and the emitted or removed ones the
	// backend still holds until the next Flush deletes them there.
	entries map[string]*pending
	live    int // buffered entries in entries
	// byTime holds each close time once; buckets its keys, unsorted (sorted
	// when due), and possibly stale (a key emitted or moved is skipped):
	// many entries share a close time (every key's window ending then), and
	// a heap of keys would compare them at every push and pop.
	byTime  timeHeap
	buckets map[int64][]string
	changed []*pending // entries to write or delete at the next Flush, each once
	buf     []byte
}

// pending is one buffered result, or (not live) one whose delete from the
// backend waits for the next Flush.
type pending struct {
	key       string
	closeTime int64
	ts        int64
	value     []byte
	live      bool // buffered: not emitted or removed
	dirty     bool // in SuppressBuffer.changed
	stored    bool // the backend holds the key (as of the last Flush)
}

// NewSuppressBuffer returns the buffer kept in b. It reads what b holds at its
// first call (a task is made before it can report errors; its first record
// can), and that call returns any error reading it.
func NewSuppressBuffer(b Backend) *SuppressBuffer {
	return &SuppressBuffer{b: b, entries: map[string]*pending{}, buckets: map[int64][]string{}}
}

// load reads the backend's entries, once.
func (sb *SuppressBuffer) load() error {
	if sb.loaded {
		return sb.loadErr
	}
	sb.loaded = true
	err := sb.b.Range(func(key, value []byte) error {
		if len(value) < 16 {
			return fmt.Errorf("entry %q has %d bytes, want at least 16", key, len(value))
		}
		k := string(key)
		p := &pending{key: k, stored: true}
		sb.entries[k] = p
		sb.set(p, readTime(value), readTime(value[8:]), value[16:])
		return nil
	})
	if err != nil {
		sb.loadErr = fmt.Errorf("load suppress buffer: %w", err)
	}
	return sb.loadErr
}

// set makes p live with a copy of value, pushing it on the heap when its close
// time is new (an older item of the key is skipped when popped).
func (sb *SuppressBuffer) set(p *pending, closeTime, ts int64, value []byte) {
	if !p.live || p.closeTime != closeTime {
		keys, ok := sb.buckets[closeTime]
		if !ok {
			heap.Push(&sb.byTime, closeTime)
		}
		sb.buckets[closeTime] = append(keys, p.key)
	}
	if !p.live {
		p.live = true
		sb.live++
	}
	p.closeTime, p.ts, p.value = closeTime, ts, append(p.value[:0], value...)
}

// touch queues p for the next Flush.
func (sb *SuppressBuffer) touch(p *pending) {
	if !p.dirty {
		p.dirty = true
		sb.changed = append(sb.changed, p)
	}
}

// drop ends p's buffering (emitted or removed). An entry the backend never
// held leaves at once; one it holds stays until Flush deletes it there.
func (sb *SuppressBuffer) drop(p *pending) {
	p.live = false
	sb.live--
	if p.stored {
		sb.touch(p)
	} else {
		delete(sb.entries, p.key) // if queued, Flush skips it
	}
}

// Put buffers value (an encoded result) for key, to be emitted with timestamp ts
// once time passes closeTime, replacing the key's pending entry. It copies key
// and value.
func (sb *SuppressBuffer) Put(key []byte, closeTime int64, value []byte, ts int64) error {
	if err := sb.load(); err != nil {
		return err
	}
	p, ok := sb.entries[string(key)]
	if !ok {
		k := string(key)
		p = &pending{key: k}
		sb.entries[k] = p
	}
	sb.set(p, closeTime, ts, value)
	sb.touch(p)
	return nil
}

// Update is Put for a time-limited suppression (UntilTimeLimit): a key with a
// pending entry keeps its close time, which its first buffered update set (as
// Kafka Streams' buffer does: a key's place in time order does not reset), and
// takes the new value and timestamp.
func (sb *SuppressBuffer) Update(key []byte, closeTime int64, value []byte, ts int64) error {
	if err := sb.load(); err != nil {
		return err
	}
	if p, ok := sb.entries[string(key)]; ok && p.live {
		closeTime = p.closeTime
	}
	return sb.Put(key, closeTime, value, ts)
}

// Remove drops key's pending entry, if any: a session merged into another is
// never emitted (Kafka Streams buffers its tombstone, and drops it when due).
func (sb *SuppressBuffer) Remove(key []byte) error {
	if err := sb.load(); err != nil {
		return err
	}
	if p, ok := sb.entries[string(key)]; ok && p.live {
		sb.drop(p) // its heap item is skipped as stale
	}
	return nil
}

// EvictUntil calls fn, in close-time order (then key order), for every entry with
// closeTime <= t, and removes each after fn returns nil; an error from fn stops
// it with that entry still buffered. key and value are valid only during fn.
// The backend sees the removals at the next Flush.
func (sb *SuppressBuffer) EvictUntil(t int64, fn func(key, value []byte, ts int64) error) error {
	if sb.loaded && sb.loadErr == nil && (len(sb.byTime) == 0 || sb.byTime[0] > t) {
		return nil // the common case, once per record: nothing is due
	}
	return sb.evict(func(closeTime int64) bool { return closeTime <= t }, fn)
}

// EvictOldest evicts as EvictUntil does, but the n entries with the earliest
// close times, whatever the time: for a buffer bounded by a number of records
// (UntilTimeLimit's maxRecords), which emits early when full, as Kafka Streams'
// emitEarlyWhenFull.
func (sb *SuppressBuffer) EvictOldest(n int, fn func(key, value []byte, ts int64) error) error {
	target := max(sb.Len()-n, 0)
	return sb.evict(func(int64) bool { return sb.live > target }, fn)
}

// evict evicts entries in close-time order while more(close time of the next) holds.
func (sb *SuppressBuffer) evict(more func(closeTime int64) bool, fn func(key, value []byte, ts int64) error) error {
	if err := sb.load(); err != nil {
		return err
	}
	for len(sb.byTime) > 0 && more(sb.byTime[0]) {
		ct := heap.Pop(&sb.byTime).(int64)
		keys := sb.buckets[ct]
		delete(sb.buckets, ct) // fn may buffer again: into a bucket of its own
		slices.Sort(keys)
		keys = slices.Compact(keys) // a key that left the bucket and came back
		for i, k := range keys {
			p, ok := sb.entries[k]
			if !ok || !p.live || p.closeTime != ct {
				continue // stale: the key was emitted or moved
			}
			if !more(ct) {
				sb.requeue(ct, keys[i:])
				return nil
			}
			if err := fn(bytesOf(p.key), p.value, p.ts); err != nil {
				sb.requeue(ct, keys[i:])
				return err
			}
			sb.drop(p)
		}
	}
	return nil
}

// requeue puts back the keys of close time ct that evict did not reach.
func (sb *SuppressBuffer) requeue(ct int64, keys []string) {
	if _, ok := sb.buckets[ct]; !ok {
		heap.Push(&sb.byTime, ct)
	}
	sb.buckets[ct] = append(sb.buckets[ct], keys...)
}

// Len is the number of buffered entries (of those read, if reading failed: the
// next other call returns the error).
func (sb *SuppressBuffer) Len() int {
	_ = sb.load() // an error is returned by the next other call
	return sb.live
}

// Flush writes the entries changed since the last Flush to the backend, and
// deletes the emitted ones, in the order they first changed since then (the
// input's order, so a replay flushes the same way; distinct keys, so the order
// does not change what the backend holds).
func (sb *SuppressBuffer) Flush() error {
	if err := sb.load(); err != nil {
		return err
	}
	for i, p := range sb.changed {
		var err error
		switch {
		case p.live:
			sb.buf = appendTime(appendTime(sb.buf[:0], p.closeTime), p.ts)
			sb.buf = append(sb.buf, p.value...)
			err = sb.b.Put(bytesOf(p.key), sb.buf)
		case p.stored:
			err = sb.b.Delete(bytesOf(p.key))
		}
		if err != nil {
			sb.changed = slices.Delete(sb.changed, 0, i) // p and the rest stay queued
			return fmt.Errorf("flush suppress buffer key %q: %w", p.key, err)
		}
		p.dirty, p.stored = false, p.live
		if !p.live && sb.entries[p.key] == p {
			delete(sb.entries, p.key)
		}
	}
	clear(sb.changed)
	sb.changed = sb.changed[:0]
	return nil
}

// timeHeap is a min-heap of close times.
type timeHeap []int64

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *timeHeap) Pop() any          { x := (*h)[len(*h)-1]; *h = (*h)[:len(*h)-1]; return x }
