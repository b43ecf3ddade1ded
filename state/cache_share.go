package state

import "sync/atomic"

// Heap pressure. Every Cache holds at most its bound (maxEntries) times the
// process's cache share, a fraction in 1/ShareUnit that the runtime lowers
// when the Go heap nears its part of the memory budget and raises when it is
// well below (runtime/engine pressure.go). The share is one per process, as
// the Go heap and its soft limit are: every cache of every task draws on the
// one heap.
//
//	runtime: live heap ─observe (at commit)─▶ SetCacheShare(s)
//	cache:   Flush, or a full cache making room ─▶ limit = maxEntries × s
//	         ─len > limit─▶ flushed and emptied (or its oldest windows evicted)
//
// A cache applies a new share at its next Flush (every commit) or when it
// fills: never on the per-record path, and always after writing its dirty
// entries, so a shrink loses no change.

// ShareUnit is the whole share: every cache may fill its bound.
const ShareUnit = 1024

var cacheShare atomic.Int64

func init() { cacheShare.Store(ShareUnit) }

// SetCacheShare sets the fraction (in 1/ShareUnit, clamped to [1, ShareUnit])
// of its bound every cache of the process may hold, from its next Flush.
func SetCacheShare(share int64) { cacheShare.Store(min(max(share, 1), ShareUnit)) }

// CacheShare is the share in force (ShareUnit when nothing lowered it).
func CacheShare() int64 { return cacheShare.Load() }

// ScaledBound is bound (entries) under share: at least one entry.
func ScaledBound(bound int, share int64) int {
	return max(1, int(int64(bound)*share/ShareUnit))
}

// applyShare sets the cache's limit from the share in force and, when it
// holds more than that, makes room: the default cache, flushed, is emptied; a
// cache with evict drops its oldest entries (writing the dirty ones first).
func (c *Cache[V]) applyShare() error {
	c.limit = ScaledBound(c.maxEntries, cacheShare.Load())
	if len(c.slots) <= c.limit {
		return nil
	}
	return c.makeRoom()
}
