package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// measurement is one contender's run: its broker, topics and scratch space.
type measurement struct {
	cfg          *config
	c            contender
	set          setting
	run          int // 1-based; runs+1 is the extra profiling run
	bins         *binaries
	addr         string
	in, mid, out string
	final, late  string // a windowed contender's final counts and late views
	appID        string // application id, consumer group, goka group
	stateDir     string
	logPath      string // the contender's stdout and stderr
}

// setting is how one measurement runs its contender, beyond the contender
// itself; the zero setting is the e2e benchmark's.
type setting struct {
	label      string        // names the measurement (topics, group) apart from others of the contender
	eos        bool          // exactly-once (gofka --guarantee exactly-once, Kafka Streams exactly_once_v2)
	commit     time.Duration // commit interval; 0: -gofka-commit-interval
	checkpoint time.Duration // gofka's --checkpoint-interval; 0: its default
	partitions int32         // partitions of every topic; 0: -partitions
	memory     string        // gofka's --memory; empty: its default
	// committed: the output is complete once a read_committed consumer sees all
	// of it and the group has committed every input offset (the EOS benchmark).
	committed bool
	profile   string // gofka's --cpu-profile, if any
}

// cycle is how often the contender's output becomes visible: its commit
// interval, or its checkpoint interval when that is shorter (exactly-once
// commits at checkpoints too).
func (m *measurement) cycle() time.Duration {
	c := m.commit()
	if m.set.checkpoint > 0 && m.set.checkpoint < c {
		c = m.set.checkpoint
	}
	return c
}

// commit is the contender's commit interval.
func (m *measurement) commit() time.Duration {
	if m.set.commit > 0 {
		return m.set.commit
	}
	return m.cfg.gofkaCommit
}

// result is what one measurement measured.
type result struct {
	id      string
	run     int
	seconds float64 // from start until the whole input is reflected in the output
	// sustained is records/s while the output went from 10% to 90% of the
	// real clicks covered: the steady rate, without start-up (a JVM, a
	// restore) and without the last commit intervals' wait (0: not tracked).
	sustained float64
	cpu       float64 // user+system CPU seconds of the contender's process
	rssMB     float64 // peak resident set (VmHWM)
	records   int     // output records
}

// running is a measurement's contender process.
type running struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's, once exited is closed
	logFile *os.File
	once    sync.Once
}

// prepare makes the measurement's topics and scratch space on a broker from cl;
// release removes them.
func prepare(ctx context.Context, cfg *config, cl cluster, c contender, s setting, bins *binaries, run int, token, scratch string) (*measurement, *kadm.Client, func(), error) {
	prefix := fmt.Sprintf("bench-%s-r%d-%s", token, run, c.id)
	if s.label != "" {
		prefix += "-" + s.label
	}
	m := &measurement{
		cfg: cfg, c: c, set: s, run: run, bins: bins, appID: prefix,
		in: prefix + "-clicks", out: prefix + "-out", mid: prefix + "-mid",
		stateDir: filepath.Join(scratch, prefix, "state"),
		logPath:  filepath.Join(scratch, prefix+".log"),
	}
	if c.windowed {
		m.in, m.final, m.late = prefix+"-views", prefix+"-final", prefix+"-late"
	}
	if c.fixedIn != "" {
		m.in, m.out, m.final, m.late = c.fixedIn, c.fixedOut, c.fixedFinal, c.fixedLate
	}
	topics := []string{m.in, m.out}
	if c.mid {
		topics = append(topics, m.mid)
	}
	if c.windowed {
		topics = append(topics, m.final, m.late)
	}
	if err := os.MkdirAll(m.stateDir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	addr, release, err := cl.acquire(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	m.addr = addr
	kcl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		release(topics, []string{m.appID})
		return nil, nil, nil, err
	}
	done := func() {
		kcl.Close()
		release(topics, []string{m.appID})
	}
	adm := kadm.NewClient(kcl)
	partitions := cfg.partitions
	if s.partitions > 0 {
		partitions = s.partitions
	}
	if err := testkit.ResetTopics(ctx, adm, partitions, topics...); err != nil {
		done()
		return nil, nil, nil, err
	}
	return m, adm, done, nil
}

// start starts the contender's process, its output in m.logPath.
func (m *measurement) start() (*running, error) {
	logFile, err := os.Create(m.logPath)
	if err != nil {
		return nil, err
	}
	args := m.c.args(m)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %v: %w", args, err)
	}
	r := &running{cmd: cmd, exited: make(chan struct{}), logFile: logFile}
	go func() {
		r.waitErr = cmd.Wait()
		close(r.exited)
	}()
	return r, nil
}

// stop ends the process (stopProcess) and closes its log, once.
func (r *running) stop() {
	r.once.Do(func() {
		stopProcess(r.cmd, r.exited)
		r.logFile.Close()
	})
}

// measure runs contender c once on a broker from cl with fresh topics loaded
// with w, and checks its output.
func measure(ctx context.Context, cfg *config, cl cluster, w *workload, c contender, s setting, bins *binaries, run int, token, scratch string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	m, adm, release, err := prepare(ctx, cfg, cl, c, s, bins, run, token, scratch)
	if err != nil {
		return result{}, err
	}
	defer release()
	if err := w.load(ctx, m.addr, m.in); err != nil {
		return result{}, err
	}
	var tracker *outputTracker
	if c.kind == finals || s.committed {
		// Started before the contender so that it is ready when output comes.
		if tracker, err = trackOutput(ctx, m.addr, m.out, w, s.committed, nil); err != nil {
			return result{}, err
		}
		defer tracker.stop()
	}
	want := int64(w.real)
	if c.kind == copies {
		want = int64(len(w.keys))
	}
	complete := func() bool {
		switch {
		case tracker != nil && !tracker.complete(c.kind, want):
			return false
		case s.committed:
			return inputCommitted(ctx, adm, m.appID, m.in, int64(len(w.keys)))
		case tracker != nil:
			return true
		}
		return outputEnds(ctx, adm, m.out) >= want
	}
	res, err := m.runUntil(ctx, complete)
	if err != nil {
		return res, err
	}
	if tracker != nil {
		res.sustained = tracker.sustained(cfg.n, 10*m.cycle())
	}
	if cfg.verify {
		vctx, vcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer vcancel()
		if res.records, err = w.verify(vctx, m.addr, m.out, c.kind, s.committed); err != nil {
			return res, fmt.Errorf("%s, run %d: %w\n%s", c.name, run, err, tail(m.logPath, 30))
		}
	}
	return res, nil
}

// runUntil starts the contender, waits until complete, stops it and returns
// the time from start until complete, its CPU seconds and peak RSS.
func (m *measurement) runUntil(ctx context.Context, complete func() bool) (result, error) {
	start := time.Now()
	p, err := m.start()
	if err != nil {
		return result{}, err
	}
	peakKB, waitErr := m.waitFor(ctx, p, complete)
	elapsed := time.Since(start)
	p.stop()
	if waitErr != nil {
		return result{}, fmt.Errorf("%s: output incomplete after %s: %w\n%s", m.c.name, elapsed.Round(time.Second), waitErr, tail(m.logPath, 30))
	}
	return result{id: m.c.id, run: m.run, seconds: elapsed.Seconds(), rssMB: float64(peakKB) / 1024, cpu: cpuSeconds(p.cmd)}, nil
}

// waitFor polls complete every 50 ms while the contender runs, and returns its
// peak RSS in KiB.
func (m *measurement) waitFor(ctx context.Context, p *running, complete func() bool) (int64, error) {
	var peakKB int64
	for !complete() {
		peakKB = max(peakKB, testkit.VmHWM(p.cmd.Process.Pid))
		select {
		case <-p.exited:
			return peakKB, fmt.Errorf("%s exited before its output was complete (%v)", m.c.name, p.waitErr)
		case <-ctx.Done():
			return peakKB, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return max(peakKB, testkit.VmHWM(p.cmd.Process.Pid)), nil
}

// outputEnds is the sum of topic's end offsets (-1 on error).
func outputEnds(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return -1
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	return total
}

// inputCommitted reports whether group has committed offsets summing to want
// on topic: every input record is consumed for good.
func inputCommitted(ctx context.Context, adm *kadm.Client, group, topic string, want int64) bool {
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil || resp.Error() != nil {
		return false
	}
	var total int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			total += o.At
		}
	})
	return total >= want
}

func cpuSeconds(cmd *exec.Cmd) float64 {
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// stopProcess sends SIGTERM (every contender then stops cleanly) and waits a
// minute before SIGKILL.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
	}
}

// outputTracker follows an output as it becomes visible. Its completion for
// an output whose intermediate counts a record cache may have left out is that
// every user's highest count is its expected one; for other outputs, that it
// holds the expected number of records. With committed it reads
// read_committed, as a consumer of an exactly-once output does.
type outputTracker struct {
	mu      sync.Mutex
	best    map[string]int64
	matched int
	records int64
	want    map[string]int64
	// covered counts the real clicks the output reflects so far (the sum of
	// every user's highest count); at10 and at90 are when it reached 10% and
	// 90% of real.
	covered, real int64
	at10, at90    time.Time
	cancel        context.CancelFunc
	done          chan struct{}
}

// trackOutput starts an outputTracker on topic. seen, if not nil, is called
// for every output record with the time the poll that returned it ended.
func trackOutput(ctx context.Context, addr, topic string, w *workload, committed bool, seen func(r *kgo.Record, at time.Time)) (*outputTracker, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &outputTracker{best: map[string]int64{}, want: w.expected, real: int64(w.real), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			at := time.Now()
			t.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				t.records++
				if seen != nil {
					seen(r, at)
				}
				t.add(r, at)
			})
			t.mu.Unlock()
		}
	}()
	return t, nil
}

// add follows one user's highest count, seen at at.
func (t *outputTracker) add(r *kgo.Record, at time.Time) {
	n, err := decodeCount(r.Value)
	if err != nil {
		return // verify reports it
	}
	user := string(r.Key)
	want, ok := t.want[user]
	if !ok || n <= t.best[user] {
		return
	}
	if t.best[user] != want && n == want {
		t.matched++
	}
	t.covered += min(n, want) - min(t.best[user], want)
	t.best[user] = n
	if t.at10.IsZero() && 10*t.covered >= t.real {
		t.at10 = at
	}
	if t.at90.IsZero() && 10*t.covered >= 9*t.real {
		t.at90 = at
	}
}

// sustained is the input rate (n input records in all) while the output went
// from 10% to 90% of the real clicks; 0 if it has not, or did in less than
// minSpan. Output read read_committed arrives in bursts, one per commit, so
// a span of a few commit intervals times the bursts, not the processing:
// callers ask for ten.
func (t *outputTracker) sustained(n int, minSpan time.Duration) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.at10.IsZero() || t.at90.Sub(t.at10) < max(minSpan, time.Second) {
		return 0
	}
	return 0.8 * float64(n) / t.at90.Sub(t.at10).Seconds()
}

// complete: every user's final count is visible (finals), or want records are.
func (t *outputTracker) complete(kind outputKind, want int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if kind == finals {
		return t.matched == len(t.want)
	}
	return t.records >= want
}

func (t *outputTracker) stop() {
	t.cancel()
	<-t.done
}
