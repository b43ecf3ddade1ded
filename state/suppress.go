package state

import (
	"bytes"
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
//	Put ─▶ entries (map) + byTime (heap) ─Flush: changed keys─▶ backend ─▶ changelog (state.Logged)
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
	entries map[string]*pending
	byTime  timeHeap
	changed map[string]bool // keys changed since the last Flush: true if present
	buf     []byte
}

// pending is one buffered result.
type pending struct {
	key       string
	closeTime int64
	ts        int64
	value     []byte
}

// NewSuppressBuffer returns the buffer kept in b. It reads what b holds at its
// first call (a task is made before it can report errors; its first record
// can), and that call returns any error reading it.
func NewSuppressBuffer(b Backend) *SuppressBuffer {
	return &SuppressBuffer{b: b, entries: map[string]*pending{}, changed: map[string]bool{}}
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
		sb.add(string(key), readTime(value), readTime(value[8:]), bytes.Clone(value[16:]))
		return nil
	})
	if err != nil {
		sb.loadErr = fmt.Errorf("load suppress buffer: %w", err)
	}
	return sb.loadErr
}

// add sets key's entry, pushing it on the heap when its close time is new.
func (sb *SuppressBuffer) add(key string, closeTime, ts int64, value []byte) {
	p, ok := sb.entries[key]
	if !ok {
		p = &pending{key: key}
		sb.entries[key] = p
	}
	if !ok || p.closeTime != closeTime {
		heap.Push(&sb.byTime, timeKey{closeTime, key}) // an older item of the key is skipped when popped
	}
	p.closeTime, p.ts, p.value = closeTime, ts, value
}

// Put buffers value (an encoded result) for key, to be emitted with timestamp ts
// once time passes closeTime, replacing the key's pending entry. It copies key
// and value.
func (sb *SuppressBuffer) Put(key []byte, closeTime int64, value []byte, ts int64) error {
	if err := sb.load(); err != nil {
		return err
	}
	if p, ok := sb.entries[string(key)]; ok {
		sb.add(p.key, closeTime, ts, append(p.value[:0], value...))
		sb.changed[p.key] = true
		return nil
	}
	k := string(key)
	sb.add(k, closeTime, ts, bytes.Clone(value))
	sb.changed[k] = true
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
	if p, ok := sb.entries[string(key)]; ok {
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
	if p, ok := sb.entries[string(key)]; ok {
		delete(sb.entries, p.key) // its heap item is skipped as stale
		sb.changed[p.key] = false
	}
	return nil
}

// EvictUntil calls fn, in close-time order (then key order), for every entry with
// closeTime <= t, and removes each after fn returns nil; an error from fn stops
// it with that entry still buffered. key and value are valid only during fn.
// The backend sees the removals at the next Flush.
func (sb *SuppressBuffer) EvictUntil(t int64, fn func(key, value []byte, ts int64) error) error {
	return sb.evict(func(closeTime int64) bool { return closeTime <= t }, fn)
}

// EvictOldest evicts as EvictUntil does, but the n entries with the earliest
// close times, whatever the time: for a buffer bounded by a number of records
// (UntilTimeLimit's maxRecords), which emits early when full, as Kafka Streams'
// emitEarlyWhenFull.
func (sb *SuppressBuffer) EvictOldest(n int, fn func(key, value []byte, ts int64) error) error {
	target := max(sb.Len()-n, 0)
	return sb.evict(func(int64) bool { return len(sb.entries) > target }, fn)
}

// evict evicts entries in close-time order while more(close time of the next) holds.
func (sb *SuppressBuffer) evict(more func(closeTime int64) bool, fn func(key, value []byte, ts int64) error) error {
	if err := sb.load(); err != nil {
		return err
	}
	for len(sb.byTime) > 0 && more(sb.byTime[0].closeTime) {
		top := sb.byTime[0]
		p, ok := sb.entries[top.key]
		if !ok || p.closeTime != top.closeTime {
			heap.Pop(&sb.byTime) // stale: the key was emitted or moved
			continue
		}
		if err := fn(bytesOf(p.key), p.value, p.ts); err != nil {
			return err
		}
		heap.Pop(&sb.byTime)
		delete(sb.entries, p.key)
		sb.changed[p.key] = false
	}
	return nil
}

// Len is the number of buffered entries (of those read, if reading failed: the
// next other call returns the error).
func (sb *SuppressBuffer) Len() int {
	_ = sb.load() // an error is returned by the next other call
	return len(sb.entries)
}

// Flush writes the entries changed since the last Flush to the backend, and
// deletes the emitted ones, in key order.
func (sb *SuppressBuffer) Flush() error {
	if err := sb.load(); err != nil {
		return err
	}
	keys := make([]string, 0, len(sb.changed))
	for k := range sb.changed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var err error
		if p, ok := sb.entries[k]; ok {
			sb.buf = appendTime(appendTime(sb.buf[:0], p.closeTime), p.ts)
			err = sb.b.Put(bytesOf(k), append(sb.buf, p.value...))
		} else {
			err = sb.b.Delete(bytesOf(k))
		}
		if err != nil {
			return fmt.Errorf("flush suppress buffer key %q: %w", k, err)
		}
		delete(sb.changed, k)
	}
	return nil
}

// timeKey orders the heap: by close time, then key.
type timeKey struct {
	closeTime int64
	key       string
}

type timeHeap []timeKey

func (h timeHeap) Len() int { return len(h) }
func (h timeHeap) Less(i, j int) bool {
	if h[i].closeTime != h[j].closeTime {
		return h[i].closeTime < h[j].closeTime
	}
	return h[i].key < h[j].key
}
func (h timeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)   { *h = append(*h, x.(timeKey)) }
func (h *timeHeap) Pop() any     { x := (*h)[len(*h)-1]; *h = (*h)[:len(*h)-1]; return x }
