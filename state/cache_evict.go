package state

import (
	"fmt"
	"math"
	"unsafe"
)

// Eviction by age, for caches whose keys carry a time (the window and session
// stores, segments.go). Emptying a full cache, as Cache does by default, is
// the cheapest eviction when any key is as likely as any other to come back;
// a window store's keys are not: a window takes in-order records only until
// stream time passes its end, and only the rare out-of-order record after
// that, so its recent windows are the hot ones. Emptying the cache drops them
// with the rest, and every one of them is read back from the backend on its
// next record. evictOldest instead drops the expired windows (which nobody may
// read again) and then the oldest ones, keeping the recent windows cached.
//
//	full cache ─pass 1: count expired, histogram of the others' times─▶ cutoff
//	           ─pass 2: write the dirty evicted ones to the backend (in dirty order)─▶
//	           ─drop(time < cutoff): slots, dirty list and index rebuilt─▶ ≤ keep slots

// evictBuckets is the resolution of the histogram that picks the cutoff:
// evictOldest may evict up to one bucket's worth of slots more than it needs.
const evictBuckets = 256

// evictOldest makes room in a full cache: it drops every slot whose time
// (timeOf its key) is before dead, unwritten, then, oldest first, as many
// others as it takes to leave at most keep slots, writing the dirty ones to the
// backend first. It returns the newest time it dropped. A write error leaves
// the cache as it was (the slots written stay dirty: writing them again is
// harmless).
func (c *Cache[V]) evictOldest(timeOf func(key string) int64, dead int64, keep int) (newest int64, err error) {
	lo, hi, live := int64(0), int64(0), 0
	for i := range c.slots {
		t := timeOf(c.slots[i].key)
		if t < dead {
			continue
		}
		if live == 0 || t < lo {
			lo = t
		}
		if live == 0 || t > hi {
			hi = t
		}
		live++
	}
	width := uint64(hi-lo)/evictBuckets + 1 // hi - lo as unsigned: no overflow
	last := -1                              // the live slots of buckets up to last are evicted
	if need := live - keep; need > 0 {
		var counts [evictBuckets]int
		for i := range c.slots {
			if t := timeOf(c.slots[i].key); t >= dead {
				counts[uint64(t-lo)/width]++
			}
		}
		for n := 0; n < need; n += counts[last] { // ends: need <= live, the sum of counts
			last++
		}
	}
	gone := func(key string) bool {
		t := timeOf(key)
		return t < dead || int64(uint64(t-lo)/width) <= int64(last)
	}
	for _, pos := range c.dirty {
		s := &c.slots[pos]
		if timeOf(s.key) < dead || !gone(s.key) {
			continue
		}
		if err := c.write(s); err != nil {
			return 0, c.endWrites(err)
		}
	}
	if err := c.endWrites(nil); err != nil {
		return 0, err
	}
	newest = math.MinInt64
	c.drop(func(s *Slot[V]) bool {
		if !gone(s.key) {
			return false
		}
		newest = max(newest, timeOf(s.key))
		return true
	})
	c.compactKeys()
	return newest, nil
}

// endWrites applies the writes write collected, where the backend takes
// batches; err is the error that ended the writing, if any, which wins.
func (c *Cache[V]) endWrites(err error) error {
	if c.batch == nil {
		return err
	}
	if berr := c.batch.WriteBatch(); berr != nil && err == nil {
		err = fmt.Errorf("flush: %w", berr)
	}
	return err
}

// write writes slot s to the backend: its encoded value, or a delete (into
// the backend's batch, if it takes batches: endWrites applies it).
func (c *Cache[V]) write(s *Slot[V]) error {
	// Backends copy what they keep and never write to a key, so the slot's key
	// string can be lent as bytes without a copy.
	key := bytesOf(s.key)
	var err error
	switch {
	case s.present && c.batch != nil:
		if c.buf, err = c.encode(c.buf[:0], s.value); err == nil {
			c.batch.BatchPut(key, c.buf)
		}
	case s.present:
		if c.buf, err = c.encode(c.buf[:0], s.value); err == nil {
			err = c.backend.Put(key, c.buf)
		}
	case c.batch != nil:
		c.batch.BatchDelete(key)
	default:
		err = c.backend.Delete(key)
	}
	if err != nil {
		return fmt.Errorf("flush key %q: %w", s.key, err)
	}
	return nil
}

// compactKeys copies the keys of the slots left into the spare arena when the
// evicted ones' bytes are most of the arena, so that it stays within twice the
// cached keys' size. The arenas swap: no allocation once both have grown.
func (c *Cache[V]) compactKeys() {
	size := 0
	for i := range c.slots {
		size += len(c.slots[i].key)
	}
	if c.keys.used <= 2*size+minKeyChunk {
		return
	}
	c.spare.reset()
	for i := range c.slots {
		s := &c.slots[i]
		s.key = c.spare.add(unsafe.Slice(unsafe.StringData(s.key), len(s.key)))
	}
	c.keys, c.spare = c.spare, c.keys
	c.spare.reset() // no slot refers to its keys any more
}
