package windows

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/engine"
)

// Shape of the generated input: the issue's "1,000,000 records, 10,000 keys,
// 1% out of order within the grace".
const (
	NumRecords = 1_000_000
	NumKeys    = 10_000
	BatchSize  = 500
	InputSeed  = 20261205
	// Step is the event time between two records in order: 1,000,000 records
	// span 1,000 s, about 17 one-minute windows.
	Step = time.Millisecond
	// Grace is the windows' grace period; an out-of-order record is late by
	// less than it, so none is dropped.
	Grace = 30 * time.Second
	// Tumbling and the hopping window sizes the benchmark runs.
	TumblingSize = time.Minute
	HoppingSize  = 10 * time.Second
	HoppingStep  = 2 * time.Second
)

// EngineCacheEntries is the cache bound runtime/engine gives each store
// partition of an application with one store partition under its default
// 256 MiB --memory: the typed caches' share of the budget at 128 bytes an
// entry (engine.SplitMemory, openState). The benchmarks' default,
// state.DefaultCacheEntries (100,000), holds fewer windows than the hopping
// count keeps open (about 126,000: 10,000 keys × 20 window starts in the
// retention × the 63% of them a key's records reach), so it spills windows to
// the backend; the engine's bound does not.
var EngineCacheEntries = int(engine.SplitMemory(256<<20).TypedCaches / 128)

// Span is how far one pass over the input moves event time: a runner shifts
// every timestamp by it before the next pass, so that state carries over from
// pass to pass as in a long-running application and no pass replays old time.
const Span = NumRecords * Step

// Generate returns n records of topic page-views: key "page-NNNNN" (one of
// keys, drawn at random), no value (a count reads only the key), and event
// times Step apart, except that one record in a hundred is up to Grace − 1 ms
// older than the record before it. Deterministic for a seed; the keys share one
// backing array, as a fetched batch would.
func Generate(n, keys int, seed uint64) []runtime.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	arena := make([]byte, 0, n*10)
	type span struct{ start, end int }
	spans := make([]span, n)
	for i := range spans {
		start := len(arena)
		arena = fmt.Appendf(arena, "page-%05d", rng.IntN(keys))
		spans[i] = span{start, len(arena)}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	recs := make([]runtime.Record, n)
	for i, s := range spans {
		ts := base + int64(i)*Step.Milliseconds()
		if rng.IntN(100) == 0 {
			ts -= 1 + rng.Int64N(Grace.Milliseconds()-1)
		}
		recs[i] = runtime.Record{Topic: "page-views", Offset: int64(i), Timestamp: ts, Key: arena[s.start:s.end:s.end]}
	}
	return recs
}

// Shift moves every record's event time on by d.
func Shift(recs []runtime.Record, d time.Duration) {
	for i := range recs {
		recs[i].Timestamp += d.Milliseconds()
	}
}
