package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// proc is a process of the binary, in its own process group. A proc with no cmd
// stands for a process the test does not own (the shared real broker): it never
// exits, and stop and wait return an error.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testkit.LogBuf
	done chan struct{} // closed when the process has exited and its output is read
	err  error         // what Wait returned; read after done
}

// start runs the binary with args. The process group is killed at the end of the
// test, and the output is logged when the test failed.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startBinary(t, appBinary, name, args...)
}

// startBinary runs bin with args as the process called name.
func startBinary(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &testkit.LogBuf{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.killGroup()
		if t.Failed() {
			t.Logf("--- output of %s (%s):\n%s", name, strings.Join(args, " "), lastLines(p.out.String(), 400))
		}
	})
	return p
}

// killGroup SIGKILLs the process group and waits for the process to exit.
func (p *proc) killGroup() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait(ctx context.Context) (int, error) {
	if p.cmd == nil {
		return -1, fmt.Errorf("%s is not this test's process: it does not exit", p.name)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return -1, fmt.Errorf("%s still running: %w", p.name, ctx.Err())
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0, nil
	case errors.As(p.err, &ee):
		return ee.ExitCode(), nil // -1 when killed by a signal
	default:
		return -1, p.err
	}
}

// stop sends SIGTERM and returns the exit status.
func (p *proc) stop(ctx context.Context) (int, error) {
	if p.cmd == nil {
		return -1, fmt.Errorf("%s is not this test's process: it cannot be stopped", p.name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return -1, err
	}
	return p.wait(ctx)
}

// waitLog polls the output until it contains s; it fails if the process exits first.
func (p *proc) waitLog(ctx context.Context, s string) error {
	return poll(ctx, fmt.Sprintf("%s logs %q", p.name, s), func() (bool, error) {
		if strings.Contains(p.out.String(), s) {
			return true, nil
		}
		if p.exited() && !strings.Contains(p.out.String(), s) {
			return false, fmt.Errorf("%s exited (%v) without logging %q", p.name, p.err, s)
		}
		return false, nil
	})
}

// poll calls cond every 50ms until it reports done or an error, or ctx ends.
func poll(ctx context.Context, what string, cond func() (bool, error)) error {
	return pollEvery(ctx, 50*time.Millisecond, what, cond)
}

// pollEvery is poll with its own interval.
func pollEvery(ctx context.Context, every time.Duration, what string, cond func() (bool, error)) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func lastLines(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = append([]string{fmt.Sprintf("... (%d lines left out)", len(l)-lines)}, l[len(l)-lines:]...)
	}
	return strings.Join(l, "\n")
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := testkit.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// startBroker returns the address of an empty broker for the test, and its
// process. By default that is a development broker of the test's own; with
// GOFKA_TEST_BROKERS set it is the shared real Kafka broker, emptied for the
// test, and the proc is a stand-in that cannot be stopped (see broker_test.go).
func startBroker(ctx context.Context, t *testing.T) (*proc, string) {
	t.Helper()
	if addr := sharedBroker(); addr != "" {
		return useSharedBroker(ctx, t, addr), addr
	}
	return startDevBroker(ctx, t)
}

// startApp runs the click-count application against the broker at addr with a 500ms
// commit interval, state in stateDir, and extra flags.
func startApp(t *testing.T, name, addr, stateDir string, extra ...string) *proc {
	t.Helper()
	// No repartition purge: tests read the repartition topic from its start.
	args := append([]string{"run", "--brokers", addr, "--state-dir", stateDir, "--commit-interval", "500ms", "--repartition-purge-interval", "0"}, extra...)
	return start(t, name, args...)
}
