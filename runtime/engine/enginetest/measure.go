// Package enginetest measures what the engine costs per record: it runs a
// compiled program through the real engine (runtime/engine) against an
// embedded kfake broker in a child process, and counts the allocations of
// this process (the engine, franz-go, the state caches, the generated code
// and its serdes; neither the broker's nor the input producer's) over a
// window of steady-state records.
//
//	StartBroker ─▶ Measure: engine.Run ─▶ warm-up records produced and processed by every sub-topology
//	  ─▶ window opens (MemStats) ─▶ the rest produced and processed ─▶ window closes (MemStats) ─▶ stop
//
// The window is found by counting the records each sub-topology's tasks
// process (a wrapper around the generated tasks), so nothing is polled over
// HTTP or logged inside it. A test package using it calls MaybeBroker first in
// its TestMain.
package enginetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/engine"
)

// MaxRuntimeAllocsPerRecord bounds what the runtime (engine, franz-go,
// state) may allocate per input record in steady state, outside the serdes:
// what is left is per batch and per commit (fetch and produce requests,
// offset commits, transactions), hundreds of records apart.
const MaxRuntimeAllocsPerRecord = 0.05

// Workload is what Measure runs.
type Workload struct {
	Program *runtime.Program
	Input   string        // the source topic Records go to
	Records []*kgo.Record // keys and values, produced to Input by the broker's process
	Warmup  int           // records processed before the window starts
	// Last is how many records the program's last sub-topology processes for
	// the first n inputs (n itself for a topology that filters nothing).
	Last           func(n int) int64
	Partitions     int
	ExactlyOnce    bool
	CommitInterval time.Duration // 100 ms when zero
}

// Warmup is how many records to process before a window of n: as many as the
// window, at least 20,000. The warm-up then meets every peak the window
// meets (the records in flight, which the engine recycles, are as many as
// they get), so that what the window allocates is what every further record
// costs; a few thousand records would start the tasks and fill the caches,
// but not the producers' buffers.
func Warmup(n int) int { return max(n, 20_000) }

// Result is what the window cost.
type Result struct {
	Records int           // input records in the window
	Mallocs uint64        // heap objects allocated in the window
	Bytes   uint64        // heap bytes allocated in the window
	Elapsed time.Duration // the window's length
	// CPU is the CPU time (user and system) this process spent in the
	// window: less sensitive than Elapsed to other processes on the machine.
	CPU time.Duration
}

// AllocsPerRecord is the window's allocations per input record.
func (r Result) AllocsPerRecord() float64 { return float64(r.Mallocs) / float64(r.Records) }

// BytesPerRecord is the window's allocated bytes per input record.
func (r Result) BytesPerRecord() float64 { return float64(r.Bytes) / float64(r.Records) }

// CPUPerRecord is the window's CPU time of this process per input record.
func (r Result) CPUPerRecord() time.Duration { return r.CPU / time.Duration(r.Records) }

// RecordsPerSecond is the window's throughput in input records.
func (r Result) RecordsPerSecond() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%d records in %s: %.0f records/s, %s CPU/record, %.3f allocs/record, %.1f B/record",
		r.Records, r.Elapsed.Round(time.Millisecond), r.RecordsPerSecond(), r.CPUPerRecord(), r.AllocsPerRecord(), r.BytesPerRecord())
}

// Window is called as the measurement window starts and stops (a benchmark's
// StartTimer and StopTimer); either may be nil.
type Window struct{ Start, Stop func() }

// Measure runs the program through the engine against b: the warm-up
// records are produced and processed first, then the window opens, the rest
// are produced (by b's process) and processed, and the window closes when the
// last sub-topology has processed all of them. Every sub-topology's work on
// the window's records is therefore inside it.
func Measure(tb testing.TB, b *Broker, w Workload, win Window) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	createInput(ctx, tb, b.Addr, w)
	warm, err := b.Stage(w.Records[:w.Warmup])
	if err != nil {
		tb.Fatal(err)
	}
	rest, err := b.Stage(w.Records[w.Warmup:])
	if err != nil {
		tb.Fatal(err)
	}
	prog, counts := counted(w.Program)
	run := startEngine(ctx, tb, b.Addr, prog, w)
	defer run.stop(tb)
	if err := b.Produce(w.Input, warm); err != nil {
		tb.Fatal(err)
	}
	if err := b.Produced(); err != nil {
		tb.Fatal(err)
	}
	last := counts[len(counts)-1]
	run.wait(tb, last, w.Last(w.Warmup))
	// Let the warm-up's last writes be acknowledged and committed.
	time.Sleep(2 * cmpOr(w.CommitInterval, defaultCommit))

	var before, after goruntime.MemStats
	writeAllocs(tb, "start")
	if win.Start != nil {
		win.Start()
	}
	goruntime.ReadMemStats(&before)
	cpu0 := cpuTime()
	begin := time.Now()
	if err := b.Produce(w.Input, rest); err != nil {
		tb.Fatal(err)
	}
	run.wait(tb, last, w.Last(len(w.Records)))
	elapsed := time.Since(begin)
	cpu := cpuTime() - cpu0
	goruntime.ReadMemStats(&after)
	if win.Stop != nil {
		win.Stop()
	}
	writeAllocs(tb, "end")
	if err := b.Produced(); err != nil {
		tb.Fatal(err)
	}
	return Result{
		Records: len(w.Records) - w.Warmup, Elapsed: elapsed, CPU: cpu,
		Mallocs: after.Mallocs - before.Mallocs, Bytes: after.TotalAlloc - before.TotalAlloc,
	}
}

// cpuTime is the CPU time this process (not its children: the broker) used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProfileEnv names a directory: Measure then writes the allocation profile
// as the window opens and as it closes (<test>-start.prof, <test>-end.prof),
// and the window's allocations by stack are their difference:
//
//	GOFKA_ENGINETEST_PROFILE=/tmp/p go test -run X -bench Y -benchtime 200000x -memprofilerate 1 ./pkg/
//	go tool pprof -sample_index=alloc_objects -diff_base /tmp/p/Y-start.prof -top pkg.test /tmp/p/Y-end.prof
const ProfileEnv = "GOFKA_ENGINETEST_PROFILE"

// writeAllocs writes the allocation profile to the ProfileEnv directory, if set.
func writeAllocs(tb testing.TB, edge string) {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return
	}
	goruntime.GC() // the profile is as of the last collection
	name := strings.NewReplacer("/", "_", "=", "-").Replace(tb.Name())
	f, err := os.Create(filepath.Join(dir, name+"-"+edge+".prof"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

const defaultCommit = 100 * time.Millisecond

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// createInput creates the workload's input topic.
func createInput(ctx context.Context, tb testing.TB, addr string, w Workload) {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, int32(w.Partitions), 1, nil, w.Input); err != nil {
		tb.Fatalf("create topic %s: %v", w.Input, err)
	}
}

// engineRun is an engine running in its own goroutine.
type engineRun struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
	tick   *time.Ticker
}

func startEngine(ctx context.Context, tb testing.TB, addr string, prog *runtime.Program, w Workload) *engineRun {
	r := &engineRun{done: make(chan error, 1), tick: time.NewTicker(2 * time.Millisecond)}
	r.ctx, r.cancel = context.WithCancel(ctx)
	cfg := engine.Config{
		Brokers: []string{addr}, AppID: "measure", StateDir: tb.TempDir(), ReplicaID: "0",
		CommitInterval: cmpOr(w.CommitInterval, defaultCommit), ExactlyOnce: w.ExactlyOnce,
		CreateTopics: true, DefaultPartitions: int32(w.Partitions),
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1})),
	}
	go func() { r.done <- engine.Run(r.ctx, prog, cfg) }()
	return r
}

// wait waits until counter reaches n; the engine failing or ctx ending fails tb.
func (r *engineRun) wait(tb testing.TB, counter *atomic.Int64, n int64) {
	tb.Helper()
	for counter.Load() < n {
		select {
		case <-r.tick.C:
		case err := <-r.done:
			r.done <- err // for stop
			tb.Fatalf("engine stopped after %d of %d records: %v", counter.Load(), n, err)
		case <-r.ctx.Done():
			tb.Fatalf("%d of %d records processed: %v", counter.Load(), n, r.ctx.Err())
		}
	}
}

// stop stops the engine gracefully and reports its error.
func (r *engineRun) stop(tb testing.TB) {
	r.cancel()
	r.tick.Stop()
	if err := <-r.done; err != nil {
		tb.Errorf("engine: %v", err)
	}
}

// counted returns a copy of prog whose tasks count the records they process,
// one counter per sub-topology.
func counted(prog *runtime.Program) (*runtime.Program, []*atomic.Int64) {
	p := *prog
	p.SubTopologies = append([]runtime.SubTopologySpec(nil), prog.SubTopologies...)
	counts := make([]*atomic.Int64, len(p.SubTopologies))
	for i := range p.SubTopologies {
		n, newTask := new(atomic.Int64), p.SubTopologies[i].NewTask
		counts[i] = n
		p.SubTopologies[i].NewTask = func(ctx runtime.TaskContext) runtime.Task {
			return countingTask{newTask(ctx), n}
		}
	}
	return &p, counts
}

// countingTask counts the records its task processed without an error.
type countingTask struct {
	runtime.Task
	n *atomic.Int64
}

func (t countingTask) Process(source int, batch []runtime.Record) error {
	err := t.Task.Process(source, batch)
	if err == nil {
		t.n.Add(int64(len(batch)))
	}
	return err
}
