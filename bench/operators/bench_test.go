package operators

import (
	"bytes"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// The minimal in-memory runner below drives the two generated tasks of
// CompiledClickCount the way the broker runtime does on one partition: it hands
// sub-topology 0 a fetched batch, copies what it emits to the repartition topic into
// an arena reused for each batch, hands those records to sub-topology 1 as the next
// fetched batch of the repartition topic, copies the sink records into a reused
// buffer, and calls Flush on both tasks at each commit.

// repartitionTopic is the in-memory repartition topic: the Emitter of sub-topology 0.
// It copies each record into chunks of memory reused for every batch (a chunk never
// moves, so the record can point into it at once) and adds the record to the batch
// handed to sub-topology 1, whose slots are reused too: only a record's offset, key
// and value change from batch to batch.
type repartitionTopic struct {
	topic     runtime.TopicID // the one topic sub-topology 0 may emit to
	name      string
	buf       []byte           // the chunk being filled
	full      [][]byte         // chunks filled since the last reset
	spare     [][]byte         // empty chunks to reuse
	records   []runtime.Record // the batch handed to sub-topology 1
	offset    int64
	misrouted int // records emitted to any other topic
}

const chunkSize = 64 << 10

// nextChunk moves on to a chunk with room for n bytes.
func (t *repartitionTopic) nextChunk(n int) {
	if t.buf != nil {
		t.full = append(t.full, t.buf)
	}
	if k := len(t.spare); k > 0 && cap(t.spare[k-1]) >= n {
		t.buf, t.spare = t.spare[k-1][:0], t.spare[:k-1]
		return
	}
	t.buf = make([]byte, 0, max(chunkSize, n))
}

func (t *repartitionTopic) Emit(topic runtime.TopicID, key, value []byte, _ int64) {
	if topic != t.topic {
		t.misrouted++
		return
	}
	n := len(key) + len(value)
	if cap(t.buf)-len(t.buf) < n {
		t.nextChunk(n)
	}
	start := len(t.buf)
	t.buf = t.buf[:start+n]
	b := t.buf[start:]
	copy(b, key)
	copy(b[len(key):], value)
	i := len(t.records)
	if i == cap(t.records) {
		t.growRecords()
	}
	t.records = t.records[:i+1]
	r := &t.records[i]
	r.Offset = t.offset
	r.Key = b[:len(key):len(key)]
	r.Value = b[len(key):]
	t.offset++
}

// growRecords makes room for more records in the batch, every slot already
// naming the topic.
func (t *repartitionTopic) growRecords() {
	n := len(t.records)
	t.records = append(t.records, runtime.Record{})[:n]
	all := t.records[:cap(t.records)]
	for i := n; i < len(all); i++ {
		all[i].Topic = t.name
	}
}

func (t *repartitionTopic) reset() {
	for _, c := range t.full {
		t.spare = append(t.spare, c)
	}
	clear(t.full)
	t.full = t.full[:0]
	t.buf = t.buf[:0]
	t.records = t.records[:0]
}

// batch is the records emitted since reset, as a fetched batch.
func (t *repartitionTopic) batch() []runtime.Record { return t.records }

// sinkTopic collects the output of sub-topology 1.
type sinkTopic struct {
	topic     runtime.TopicID
	buf       []byte // the current batch's output records, reused
	n         int    // records produced so far
	misrouted int
}

func (s *sinkTopic) Emit(topic runtime.TopicID, key, value []byte, _ int64) {
	if topic != s.topic {
		s.misrouted++
		return
	}
	s.buf = append(s.buf, key...)
	s.buf = append(s.buf, value...)
	s.n++
}

// generatedRunner runs CompiledClickCount on one partition.
type generatedRunner struct {
	tasks   [2]runtime.Task
	rep     *repartitionTopic
	sink    *sinkTopic
	backend *state.MemoryBackend
}

func newGeneratedRunner(tb testing.TB) *generatedRunner {
	p := CompiledClickCount()
	if len(p.SubTopologies) != 2 {
		tb.Fatalf("CompiledClickCount has %d sub-topologies, want 2", len(p.SubTopologies))
	}
	st0, st1 := p.SubTopologies[0], p.SubTopologies[1]
	if len(st0.Sinks) != 1 || len(st1.Sinks) != 1 || len(st1.Stores) != 1 ||
		p.Topics[st0.Sinks[0]].Kind != runtime.RepartitionTopic {
		tb.Fatalf("unexpected program shape:\n%s", p.Description)
	}
	r := &generatedRunner{
		rep:     &repartitionTopic{topic: st0.Sinks[0], name: p.TopicName(p.DefaultAppID, st0.Sinks[0])},
		sink:    &sinkTopic{topic: st1.Sinks[0]},
		backend: state.NewMemoryBackend(),
	}
	r.tasks[0] = st0.NewTask(runtime.TaskContext{Partition: 0, Out: r.rep})
	r.tasks[1] = st1.NewTask(runtime.TaskContext{Partition: 0, Out: r.sink, Stores: []state.Backend{r.backend}})
	return r
}

// processBatch runs one fetched batch of user-clicks through both sub-topologies.
func (r *generatedRunner) processBatch(batch []runtime.Record) error {
	r.rep.reset()
	if err := runtime.ProcessSafely(r.tasks[0], 0, batch); err != nil {
		return err
	}
	r.sink.buf = r.sink.buf[:0]
	return runtime.ProcessSafely(r.tasks[1], 0, r.rep.batch())
}

// commit flushes both tasks' caches to their backends.
func (r *generatedRunner) commit() error {
	for _, t := range r.tasks {
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Run processes records in batches of BatchSize and commits at the end.
func (r *generatedRunner) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		if err := r.processBatch(records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return r.commit()
}

// Counts reads the committed count of every user from the backend.
func (r *generatedRunner) Counts() map[string]uint64 {
	m := map[string][]byte{}
	r.backend.Range(func(k, v []byte) error {
		m[string(k)] = bytes.Clone(v)
		return nil
	})
	return decodeCounts(m)
}

func (r *generatedRunner) Outputs() int { return r.sink.n }

// implementation is what the benchmarks and tests run.
type implementation interface {
	Run(records []runtime.Record) error
	Counts() map[string]uint64
	Outputs() int
}

var implementations = []struct {
	name string
	new  func(testing.TB) implementation
}{
	{"generated", func(tb testing.TB) implementation { return newGeneratedRunner(tb) }},
	{"handwritten", func(testing.TB) implementation { return NewHandwritten(state.NewMemoryBackend()) }},
	{"interface-chain", func(testing.TB) implementation { return NewChain() }},
	{"library-chain", func(tb testing.TB) implementation {
		c, err := NewLibraryChain()
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}},
}

var clicks = sync.OnceValue(func() []runtime.Record { return GenerateClicks(NumRecords, InputSeed) })

// BenchmarkClickCount processes the same NumRecords records per op with each
// implementation. State carries over from op to op, as in a long-running
// application; one untimed pass before the timed loop inserts every user, so the
// loop measures the steady state. Each op ends with a commit.
//
// Besides the per-op figures it reports ns/record, records/s and allocs/record,
// and cpu-ns/record: the CPU time of the whole process (every thread) over the
// timed loop per record. On a machine with an idle core, the garbage collector's
// background work runs there and does not lengthen the wall-clock ns/record, so
// for an implementation that allocates, cpu-ns/record is the fuller cost.
func BenchmarkClickCount(b *testing.B) {
	in := clicks()
	for _, impl := range implementations {
		b.Run("impl="+impl.name, func(b *testing.B) {
			x := impl.new(b)
			if err := x.Run(in); err != nil { // warm-up: every user is now known
				b.Fatal(err)
			}
			b.ReportAllocs()
			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			cpuStart := processTime()
			for b.Loop() {
				if err := x.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			cpu := processTime() - cpuStart
			goruntime.ReadMemStats(&after)
			records := float64(b.N) * float64(len(in))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
			b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
			b.ReportMetric(float64(cpu)/records, "cpu-ns/record")
		})
	}
}

// expectedCounts counts the real clicks per user straight from the input.
func expectedCounts(in []runtime.Record) (counts map[string]uint64, real int) {
	counts = map[string]uint64{}
	for _, r := range in {
		v := string(r.Value)
		if strings.HasPrefix(v, "bot:") {
			continue
		}
		user, _, _ := strings.Cut(v, ",")
		counts[user]++
		real++
	}
	return counts, real
}

func TestImplementationsAgree(t *testing.T) {
	in := clicks()
	want, real := expectedCounts(in)
	if n := len(want); n < 9_000 || n > 10_000 {
		t.Fatalf("input has %d distinct users, want about 10,000", n)
	}
	if bots := len(in) - real; bots < len(in)/12 || bots > len(in)/8 {
		t.Fatalf("input has %d bot clicks of %d, want about 10%%", bots, len(in))
	}
	for _, impl := range implementations {
		x := impl.new(t)
		if err := x.Run(in); err != nil {
			t.Fatalf("%s: %v", impl.name, err)
		}
		if got := x.Outputs(); got != real {
			t.Errorf("%s: %d output records, want %d (one per real click)", impl.name, got, real)
		}
		if diff := diffCounts(x.Counts(), want); diff != "" {
			t.Errorf("%s: counts differ from the input's:\n%s", impl.name, diff)
		}
		if g, ok := x.(*generatedRunner); ok && g.rep.misrouted+g.sink.misrouted != 0 {
			t.Errorf("generated: %d records emitted to an unexpected topic", g.rep.misrouted+g.sink.misrouted)
		}
	}
}

func diffCounts(got, want map[string]uint64) string {
	var b strings.Builder
	n := 0
	note := func(format string, args ...any) {
		if n++; n <= 10 {
			fmt.Fprintf(&b, format, args...)
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			note("  %s: missing, want %d\n", k, w)
		} else if g != w {
			note("  %s: %d, want %d\n", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			note("  %s: %d, want absent\n", k, g)
		}
	}
	if n > 10 {
		fmt.Fprintf(&b, "  … and %d more\n", n-10)
	}
	return b.String()
}

// TestGeneratedZeroAllocs checks that, once every key is cached, a batch through
// both generated tasks (and the runner between them) allocates nothing.
func TestGeneratedZeroAllocs(t *testing.T) {
	in := clicks()
	r := newGeneratedRunner(t)
	if err := r.Run(in); err != nil {
		t.Fatal(err)
	}
	batch := in[len(in)/2 : len(in)/2+BatchSize]
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		if e := r.processBatch(batch); e != nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("a batch of %d records through both generated tasks allocates %v times, want 0", len(batch), allocs)
	}
}

// TestGeneratedCommitAllocs checks that a commit allocates nothing either once
// every key is cached: state.Cache.Flush walks its list of changed keys, encodes
// each value into a reused buffer and lends the key's bytes to the backend, and
// state.MemoryBackend.Put overwrites a value of the same length in place. (A
// RocksDB backend allocates in cgo; that is the backend's cost, not the
// generated code's.)
func TestGeneratedCommitAllocs(t *testing.T) {
	in := clicks()
	r := newGeneratedRunner(t)
	if err := r.Run(in); err != nil {
		t.Fatal(err)
	}
	batch := in[:BatchSize]
	users := map[string]bool{}
	for _, rec := range batch {
		if v := string(rec.Value); !strings.HasPrefix(v, "bot:") {
			u, _, _ := strings.Cut(v, ",")
			users[u] = true
		}
	}
	var err error
	allocs := testing.AllocsPerRun(20, func() {
		if e := r.processBatch(batch); e != nil {
			err = e
		}
		if e := r.commit(); e != nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("a batch of %d records then a commit of its %d changed keys allocates %v times, want 0",
			len(batch), len(users), allocs)
	}
}
