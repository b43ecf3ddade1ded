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
	run          int // 1-based; runs+1 is the extra profiling run
	bins         *binaries
	addr         string
	in, mid, out string
	appID        string // application id, consumer group, goka group
	stateDir     string
	logPath      string // the contender's stdout and stderr
	profile      string // gofka's --cpu-profile, if any
}

// result is what one measurement measured.
type result struct {
	id      string
	run     int
	seconds float64 // from start until the whole input is reflected in the output
	cpu     float64 // user+system CPU seconds of the contender's process
	rssMB   float64 // peak resident set (VmHWM)
	records int     // output records
}

// measure runs contender c once on a broker from cl with fresh topics loaded
// with w, and checks its output.
func measure(ctx context.Context, cfg *config, cl cluster, w *workload, c contender, bins *binaries, run int, token, scratch, profile string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	prefix := fmt.Sprintf("bench-%s-r%d-%s", token, run, c.id)
	m := &measurement{
		cfg: cfg, c: c, run: run, bins: bins, appID: prefix,
		in: prefix + "-clicks", out: prefix + "-out", mid: prefix + "-mid",
		stateDir: filepath.Join(scratch, prefix, "state"),
		logPath:  filepath.Join(scratch, prefix+".log"),
		profile:  profile,
	}
	if c.fixedIn != "" {
		m.in, m.out = c.fixedIn, c.fixedOut
	}
	topics := []string{m.in, m.out}
	if c.mid {
		topics = append(topics, m.mid)
	}
	if err := os.MkdirAll(m.stateDir, 0o755); err != nil {
		return result{}, err
	}
	addr, release, err := cl.acquire(ctx)
	if err != nil {
		return result{}, err
	}
	m.addr = addr
	defer release(topics, []string{m.appID})

	kcl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return result{}, err
	}
	defer kcl.Close()
	adm := kadm.NewClient(kcl)
	if err := testkit.ResetTopics(ctx, adm, cfg.partitions, topics...); err != nil {
		return result{}, err
	}
	if err := w.load(ctx, addr, m.in); err != nil {
		return result{}, err
	}

	logFile, err := os.Create(m.logPath)
	if err != nil {
		return result{}, err
	}
	defer logFile.Close()
	args := c.args(m)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	var tracker *finalTracker
	if c.kind == finals {
		// Started before the contender so that it is ready when output comes.
		if tracker, err = trackFinals(ctx, addr, m.out, w); err != nil {
			return result{}, err
		}
		defer tracker.stop()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("start %v: %w", args, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var peakKB int64
	want := int64(w.real)
	if c.kind == copies {
		want = int64(len(w.keys))
	}
	complete := func() bool {
		if tracker != nil {
			return tracker.complete()
		}
		ends, err := adm.ListEndOffsets(ctx, m.out)
		if err != nil {
			return false
		}
		var total int64
		ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		return total >= want
	}
	var waitErr error
	for !complete() {
		peakKB = max(peakKB, testkit.VmHWM(cmd.Process.Pid))
		select {
		case err := <-exited:
			return result{}, fmt.Errorf("%s exited before its output was complete (%v)\n%s", c.name, err, tail(m.logPath, 30))
		case <-ctx.Done():
			waitErr = ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if waitErr != nil {
			break
		}
	}
	elapsed := time.Since(start)
	peakKB = max(peakKB, testkit.VmHWM(cmd.Process.Pid))
	stopProcess(cmd, exited)
	if waitErr != nil {
		return result{}, fmt.Errorf("%s: output incomplete after %s: %w\n%s", c.name, elapsed.Round(time.Second), waitErr, tail(m.logPath, 30))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res := result{id: c.id, run: run, seconds: elapsed.Seconds(), rssMB: float64(peakKB) / 1024}
	if ru != nil {
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if cfg.verify {
		vctx, vcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer vcancel()
		if res.records, err = w.verify(vctx, addr, m.out, c.kind); err != nil {
			return res, fmt.Errorf("%s, run %d: %w\n%s", c.name, run, err, tail(m.logPath, 30))
		}
	}
	return res, nil
}

// stopProcess sends SIGTERM (every contender then stops cleanly) and waits a
// minute before SIGKILL.
func stopProcess(cmd *exec.Cmd, exited <-chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
	}
}

// finalTracker follows an output whose intermediate counts a record cache may
// have left out: the input is reflected once every user's highest count is its
// expected one.
type finalTracker struct {
	mu      sync.Mutex
	best    map[string]int64
	matched int
	want    map[string]int64
	cancel  context.CancelFunc
	done    chan struct{}
}

func trackFinals(ctx context.Context, addr, topic string, w *workload) (*finalTracker, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &finalTracker{best: map[string]int64{}, want: w.expected, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			t.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
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
				t.best[user] = n
			})
			t.mu.Unlock()
		}
	}()
	return t, nil
}

func (t *finalTracker) complete() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.matched == len(t.want)
}

func (t *finalTracker) stop() {
	t.cancel()
	<-t.done
}
