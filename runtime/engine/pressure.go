package engine

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"

	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// This file shrinks the typed caches before the memory budget is reached
// rather than after (issue 17, point 5). At every commit the loop reads the Go
// heap's live bytes and the process's resident set (memReader) and, when
// either nears its part of the budget, halves the process's cache share
// (state.SetCacheShare: every cache holds at most its bound times the share);
// the commit that follows flushes the caches, which then drop what the share
// no longer allows, and the memory they held is returned to the system. When
// both are well below, the share doubles back, up to the whole bound:
//
//	commit ─observe: live heap / GoLimit, RSS / Total─▶ share ×½ (high) or ×2 (low)
//	       ─flush every cache─▶ caches over bound × share write and drop entries
//	       ─share lowered, or RSS high─▶ debug.FreeOSMemory, malloc_trim
//
// Reading runtime/metrics and /proc/self/statm costs microseconds, once a
// commit, never per record.

// Marks of the reaction, as fractions of the Go heap's share (GoLimit) and of
// the whole budget. The heap's live bytes at the high mark leave the collector
// room to work under GOMEMLIMIT; the resident set's high mark is below the
// budget, so the caches shrink before the process reaches it.
const (
	heapHigh, heapLow = 0.75, 0.45
	rssHigh, rssLow   = 0.95, 0.80
	// minShare is the smallest share: a sixteenth of each cache's bound, so
	// a cache still batches writes to RocksDB.
	minShare = state.ShareUnit / 16
)

// memReading is one reading of the process's memory, in bytes.
type memReading struct {
	// Live is the Go heap's live bytes as of the last collection
	// (/gc/heap/live:bytes).
	Live int64
	// RSS is the process's resident set (0 where it cannot be read).
	RSS int64
}

// memReader reads the process's memory. The engine reads the Go runtime and
// /proc; tests give readings a real process cannot be made to produce on
// demand.
type memReader interface{ read() memReading }

// pressure is the engine's reaction to memory pressure.
type pressure struct {
	src     memReader
	goLimit int64 // the Go heap's share (GOMEMLIMIT in force)
	total   int64 // the whole-process budget
	share   int64 // the cache share set last
	bound   int   // cache entries per store partition at the whole share
	log     *slog.Logger
	// free returns freed memory to the system after a shrink (freeMemory).
	free func()
}

func newPressure(src memReader, s MemorySplit, bound int, log *slog.Logger) *pressure {
	goLimit := debug.SetMemoryLimit(-1) // the limit in force: ours, or the user's GOMEMLIMIT
	if goLimit == math.MaxInt64 {
		goLimit = s.GoLimit
	}
	state.SetCacheShare(state.ShareUnit)
	return &pressure{src: src, goLimit: goLimit, total: s.Total, share: state.ShareUnit, bound: bound, log: log, free: freeMemory}
}

// observe reads the process's memory and moves the cache share: halved when
// the live heap or the resident set is above its high mark, doubled when both
// are below their low marks. It reports whether memory should be returned to
// the system once the commit has shrunk the caches: the share was lowered, or
// the resident set is above its mark (at the floor share, what the allocators
// keep free is all that is left to give back).
func (p *pressure) observe() (release bool) {
	r := p.src.read()
	heap := float64(r.Live) / float64(max(p.goLimit, 1))
	rss := float64(r.RSS) / float64(max(p.total, 1))
	share := p.share
	switch {
	case heap > heapHigh || rss > rssHigh:
		share = max(share/2, minShare)
	case heap < heapLow && rss < rssLow:
		share = min(share*2, state.ShareUnit)
	}
	release = rss > rssHigh
	if share == p.share {
		return release
	}
	p.log.Info("memory pressure: typed cache bound changed", "cache_entries_per_store", state.ScaledBound(p.bound, share),
		"was", state.ScaledBound(p.bound, p.share), "go_heap_live_bytes", r.Live, "go_heap_share_bytes", p.goLimit,
		"rss_bytes", r.RSS, "memory_budget_bytes", p.total)
	release = release || share < p.share
	p.share = share
	state.SetCacheShare(share)
	return release
}

// freeMemory returns to the system what the Go heap and the C allocator
// (RocksDB's) hold free: a forced collection and scavenge, and malloc_trim.
func freeMemory() {
	debug.FreeOSMemory()
	rocks.ReleaseFreeMemory()
}

// entries is the cache bound per store partition under the share in force.
func (p *pressure) entries() int { return state.ScaledBound(p.bound, p.share) }

// runtimeMemory reads the Go runtime's live heap and /proc/self/statm.
type runtimeMemory struct {
	samples []rtmetrics.Sample
	page    int64
}

func newRuntimeMemory() *runtimeMemory {
	return &runtimeMemory{samples: []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}, page: int64(os.Getpagesize())}
}

func (m *runtimeMemory) read() memReading {
	rtmetrics.Read(m.samples)
	var r memReading
	if v := m.samples[0].Value; v.Kind() == rtmetrics.KindUint64 {
		r.Live = int64(v.Uint64())
	}
	// statm: size resident shared text lib data dt, in pages.
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				r.RSS = n * m.page
			}
		}
	}
	return r
}

// observeMemory runs the pressure reaction before a commit and publishes the
// memory gauges. It reports whether to return memory to the system once the
// commit's flush has shrunk the caches (pressure.observe).
func (e *Engine) observeMemory() (release bool) {
	if e.pressure == nil {
		return false
	}
	release = e.pressure.observe()
	e.metrics.mem.cacheBound.Set(float64(e.pressure.entries()))
	if e.pool != nil {
		if u, err := e.pool.MemoryUsage(); err == nil {
			e.metrics.mem.rocks.WithLabelValues("memtables").Set(float64(u.MemTables))
			e.metrics.mem.rocks.WithLabelValues("block_cache").Set(float64(u.BlockCache))
			e.metrics.mem.rocks.WithLabelValues("block_cache_pinned").Set(float64(u.BlockCachePinned))
			e.metrics.mem.rocks.WithLabelValues("table_readers").Set(float64(u.TableReaders))
		}
	}
	return release
}
