package state

// drop removes from the cache every slot for which gone returns true, dirty or
// not: their unflushed changes are discarded. The window and session stores
// call it when they expire segments, whose entries the backend loses by a range
// removal, so the cache must forget them too. Positions of the remaining slots
// change; the dirty list keeps its order. It costs one pass over the cache.
func (c *Cache[V]) drop(gone func(s *Slot[V]) bool) {
	moved := c.moved[:0]
	for range c.slots {
		moved = append(moved, 0) // old position → new position + 1 (0: dropped)
	}
	c.moved = moved
	n := 0
	for i := range c.slots {
		if gone(&c.slots[i]) {
			continue
		}
		c.slots[n] = c.slots[i]
		c.slots[n].pos = uint32(n)
		moved[i] = uint32(n + 1)
		n++
	}
	if n == len(c.slots) {
		return
	}
	c.moves++
	clear(c.slots[n:]) // drop the values, so they can be collected
	c.slots = c.slots[:n]
	dirty := c.dirty[:0]
	for _, pos := range c.dirty {
		if m := moved[pos]; m != 0 {
			dirty = append(dirty, m-1)
		}
	}
	c.dirty = dirty
	clear(c.index)
	c.placeAll()
}
