package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/internal/testkit"
)

// replica is one process of the click-count binary: its command line, its log
// (in a file and in memory, for the lines the scenarios look for) and its
// status endpoint. Starting it again after it exited reuses the command line,
// so the same state directory, addresses and snapshots.
type replica struct {
	name       string // r0, r1, …: its --replica-id
	bin        string
	args       []string
	statusAddr string
	raftAddr   string
	stateDir   string // --state-dir
	logPath    string

	cmd      *exec.Cmd
	out      *testkit.LogBuf
	logFile  *os.File
	done     chan struct{}
	err      error
	started  time.Time
	peakKB   int64   // VmHWM, sampled while it runs
	cpuSecs  float64 // user+system CPU of the last process, once it exited
	restarts int
}

// start runs the replica's process in its own process group.
func (r *replica) start() error {
	if r.cmd != nil && !r.exited() {
		return fmt.Errorf("%s is already running", r.name)
	}
	f, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	r.out = &testkit.LogBuf{}
	r.logFile = f
	r.cmd = exec.Command(r.bin, r.args...)
	w := io.MultiWriter(f, r.out)
	r.cmd.Stdout, r.cmd.Stderr = w, w
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.done = make(chan struct{})
	r.peakKB = 0
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	r.restarts++
	go func(cmd *exec.Cmd, done chan struct{}) {
		r.err = cmd.Wait()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.cpuSecs = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
		f.Close()
		close(done)
	}(r.cmd, r.done)
	return nil
}

func (r *replica) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// sample records the process's peak resident set so far.
func (r *replica) sample() {
	if r.cmd != nil && !r.exited() {
		r.peakKB = max(r.peakKB, testkit.VmHWM(r.cmd.Process.Pid))
	}
}

// kill SIGKILLs the process group and waits until the process is gone; it
// returns the instant the signal was sent and the instant the process was reaped.
func (r *replica) kill() (sent, gone time.Time, err error) {
	r.sample()
	sent = time.Now()
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return sent, sent, fmt.Errorf("SIGKILL %s: %w", r.name, err)
	}
	<-r.done
	return sent, time.Now(), nil
}

// stop sends SIGTERM and waits (at most limit, then SIGKILL) for a clean exit.
func (r *replica) stop(limit time.Duration) error {
	if r.cmd == nil || r.exited() {
		return nil
	}
	r.sample()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !r.exited() {
		return fmt.Errorf("SIGTERM %s: %w", r.name, err)
	}
	select {
	case <-r.done:
	case <-time.After(limit):
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM: killed\n%s", r.name, limit, tailFile(r.logPath, 30))
	}
	var ee *exec.ExitError
	if r.err != nil && !(errors.As(r.err, &ee) && ee.ExitCode() == 0) {
		return fmt.Errorf("%s exited with %v after SIGTERM\n%s", r.name, r.err, tailFile(r.logPath, 30))
	}
	return nil
}

// killGroup ends the process group unconditionally (clean-up).
func (r *replica) killGroup() {
	if r.cmd == nil || r.exited() {
		return
	}
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.done
}

// replicaDir is where the replica keeps state/ and raft/ for application appID.
func (r *replica) replicaDir(appID string) string {
	return filepath.Join(r.stateDir, appID, r.name)
}

// statusDoc is what the scenarios read of GET /status.
type statusDoc struct {
	Replica struct {
		Replica   string     `json:"replica"`
		Tasks     []taskView `json:"tasks"`
		Processed int64      `json:"records_processed"`
		Standbys  []struct {
			Task string `json:"task"`
			Lag  int64  `json:"lag"`
		} `json:"standbys"`
	} `json:"replica"`
	Cluster *coordinator.Status `json:"cluster"`
}

type taskView struct {
	Task           string  `json:"task"`
	StateFrom      string  `json:"state_from"`
	RestoreSeconds float64 `json:"restore_seconds"`
	Replayed       int64   `json:"changelog_records_replayed"`
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// status reads the replica's GET /status.
func (r *replica) status(ctx context.Context) (statusDoc, error) {
	var st statusDoc
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+r.statusAddr+"/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /status of %s: %s", r.name, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("GET /status of %s: %w", r.name, err)
	}
	return st, nil
}

// ready reports whether GET /readyz answers 200.
func (r *replica) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+r.statusAddr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// leaderIndex is the index in rs of the replica st names as leader, or -1.
func leaderIndex(st statusDoc, rs []*replica) int {
	if st.Cluster == nil || st.Cluster.LeaderID == "" {
		return -1
	}
	for i, r := range rs {
		if st.Cluster.LeaderID == r.name || st.Cluster.LeaderID == r.raftAddr {
			return i
		}
	}
	return -1
}

// logEvent is one line of a replica's slog text log that the scenarios use.
type logEvent struct {
	at   time.Time
	task string
	line string
}

var (
	logTimeRE = regexp.MustCompile(`^time=(\S+) `)
	logTaskRE = regexp.MustCompile(` task=(\S+)`)
)

// events returns the replica's log lines containing msg (e.g. `msg="task started"`),
// with their time and task.
func (r *replica) events(msg string) []logEvent {
	if r.out == nil {
		return nil
	}
	var out []logEvent
	sc := bufio.NewScanner(strings.NewReader(r.out.String()))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, msg) {
			continue
		}
		m := logTimeRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		ev := logEvent{at: at, line: line}
		if tm := logTaskRE.FindStringSubmatch(line); tm != nil {
			ev.task = tm[1]
		}
		out = append(out, ev)
	}
	return out
}

// buildBinary builds examples/clickcount into dir; the same binary runs the
// replicas and the embedded broker.
func buildBinary(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "clickcount")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/clickcount")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./examples/clickcount: %v\n%s", err, out)
	}
	return bin, nil
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + path + " (last lines) ---\n" + strings.Join(lines, "\n") + "\n"
}

// dirSize is the total size of the regular files under dir, in bytes.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
