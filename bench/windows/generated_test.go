package windows

import (
	"syscall"
	"testing"
	"time"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchmem -benchtime 2x ./windows/
//
// One op is a pass over the NumRecords records (event time moves on by Span
// between passes, so state carries over); ns/record and allocs/record are per
// input record. The generated task writes its output to a sink that, like
// Handwritten's, appends every record to a buffer reused for each batch, and
// commits (Flush) to state.MemoryBackend stores after each pass, as Handwritten.Run.

// sink is the generated task's Emitter.
type sink struct {
	buf []byte
	n   int
}

func (s *sink) Emit(_ runtime.TopicID, key, value []byte, _ int64) {
	s.buf = append(append(s.buf, key...), value...)
	s.n++
}

// generated runs a generated windowed count over batches of BatchSize.
type generated struct {
	task runtime.Task
	out  *sink
}

func newGenerated(p *runtime.Program) *generated { return newGeneratedCache(p, 0) }

// newGeneratedCache is newGenerated with a cache of cacheEntries per store (0:
// state.DefaultCacheEntries).
func newGeneratedCache(p *runtime.Program, cacheEntries int) *generated {
	return newGeneratedOn(p, cacheEntries, state.NewMemoryBackend())
}

// newGeneratedOn is newGeneratedCache over the given store backend.
func newGeneratedOn(p *runtime.Program, cacheEntries int, store state.Backend) *generated {
	out := &sink{}
	return &generated{out: out, task: p.SubTopologies[0].NewTask(runtime.TaskContext{
		Out: out, Stores: []state.Backend{store}, StreamTime: runtime.NoTimestamp,
		CacheEntries: cacheEntries})}
}

// rocksStore is a RocksDB store partition in a pool sized as the engine sizes
// it under its default 256 MiB budget (rocks.SplitBudget), closed after b.
func rocksStore(b *testing.B) state.Backend {
	mem, _ := rocks.SplitBudget(256 << 20)
	p, err := rocks.OpenPool(b.TempDir(), mem)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	db, err := p.Open("0_0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s, err := db.Store("hopping", 0)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func (g *generated) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		g.out.buf = g.out.buf[:0]
		if err := g.task.Process(0, records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return g.task.Flush()
}

// runner is either side.
type runner interface{ Run([]runtime.Record) error }

func bench(b *testing.B, r runner) {
	recs := Generate(NumRecords, NumKeys, InputSeed)
	if err := r.Run(recs); err != nil { // the first pass fills the state
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		Shift(recs, Span)
		b.StartTimer()
		before := cpuTime()
		if err := r.Run(recs); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - before
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*NumRecords), "ns/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*NumRecords), "cpu-ns/record")
}

// cpuTime is the CPU time the process has used (user and system, every thread:
// the garbage collector's included). On a machine shared with other work,
// wall-clock time also counts the time this process waited for a CPU; CPU
// time does not, so cpu-ns/record compares the two sides more steadily.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		panic(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func BenchmarkTumbling(b *testing.B) {
	size := TumblingSize.Milliseconds()
	b.Run("generated", func(b *testing.B) { bench(b, newGenerated(CompiledTumblingCount())) })
	b.Run("generated-engine-cache-rocksdb", func(b *testing.B) {
		bench(b, newGeneratedOn(CompiledTumblingCount(), EngineCacheEntries, rocksStore(b)))
	})
	b.Run("handwritten", func(b *testing.B) {
		bench(b, NewHandwritten(size, size, Grace.Milliseconds(), state.NewMemoryBackend()))
	})
}

func BenchmarkHopping(b *testing.B) {
	b.Run("generated", func(b *testing.B) { bench(b, newGenerated(CompiledHoppingCount())) })
	b.Run("generated-engine-cache", func(b *testing.B) {
		bench(b, newGeneratedCache(CompiledHoppingCount(), EngineCacheEntries))
	})
	b.Run("generated-engine-cache-rocksdb", func(b *testing.B) {
		bench(b, newGeneratedOn(CompiledHoppingCount(), EngineCacheEntries, rocksStore(b)))
	})
	b.Run("handwritten", func(b *testing.B) {
		bench(b, NewHandwritten(HoppingSize.Milliseconds(), HoppingStep.Milliseconds(), Grace.Milliseconds(), state.NewMemoryBackend()))
	})
}

// BenchmarkSession reports the generated session count; there is no
// hand-written one to compare with.
func BenchmarkSession(b *testing.B) {
	b.Run("generated", func(b *testing.B) { bench(b, newGenerated(CompiledSessionCount())) })
}

// TestGeneratedMatchesHandwritten: over the same input the generated counts emit
// as many updates as the hand-written loop (and the brute force), with the same
// bytes for each.
func TestGeneratedMatchesHandwritten(t *testing.T) {
	recs := Generate(100_000, 500, InputSeed)
	for _, tc := range []struct {
		p             *runtime.Program
		size, advance time.Duration
	}{{CompiledTumblingCount(), TumblingSize, TumblingSize}, {CompiledHoppingCount(), HoppingSize, HoppingStep}} {
		h := NewHandwritten(tc.size.Milliseconds(), tc.advance.Milliseconds(), Grace.Milliseconds(), state.NewMemoryBackend())
		g := newGenerated(tc.p)
		for len(recs) > 0 {
			n := min(BatchSize, len(recs))
			g.out.buf = g.out.buf[:0]
			if err := g.task.Process(0, recs[:n]); err != nil {
				t.Fatal(err)
			}
			if err := h.ProcessBatch(recs[:n]); err != nil {
				t.Fatal(err)
			}
			if string(g.out.buf) != string(h.sink) {
				t.Fatalf("%s: the batch's output differs from the hand-written loop's", tc.p.Name)
			}
			recs = recs[n:]
		}
		if g.out.n != h.Outputs() || g.out.n == 0 {
			t.Fatalf("%s: %d updates, hand-written %d", tc.p.Name, g.out.n, h.Outputs())
		}
		recs = Generate(100_000, 500, InputSeed)
	}
}
