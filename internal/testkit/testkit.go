// Package testkit holds the helpers the end-to-end tests (test/e2e, and
// internal/miniotest for them) and the benchmarks (bench/e2e, bench/cluster)
// share: a process's output buffer, a free port, waiting for, resetting and
// cleaning up a broker, starting the real Apache Kafka broker of test/kafka,
// process and machine facts, the repository root. Each test or
// benchmark drives its own scenario; this package only keeps them from repeating
// the plumbing.
//
// The benchmarks are a module of their own (github.com/gofka/streams/bench); Go
// allows them to import this package because the internal rule goes by import
// path (github.com/gofka/streams/...), not by module.
package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// LogBuf collects a process's output in memory; it is safe for concurrent use
// (a process's stdout and stderr write to it from two goroutines).
type LogBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitForBroker waits until a Kafka-protocol broker answers at addr.
func WaitForBroker(ctx context.Context, addr string, limit time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return Retry(ctx, limit, func() error { _, err := adm.ListBrokers(ctx); return err })
}

// Retry calls fn until it succeeds, ctx ends or limit passes, and returns its last error.
func Retry(ctx context.Context, limit time.Duration, fn func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitFor polls cond every 50 ms until it holds, ctx ends or limit passes.
func WaitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// FreeAddr is a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr() (string, error) {
	// The kernel may hand the same ephemeral port to two listen-and-close probes
	// in a row; a test that asks twice (a --raft-addr and a --status-addr) must
	// get two ports, so ports handed out before are skipped.
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr, nil
		}
	}
	return "", errors.New("testkit: no free port not handed out before")
}

// handedOut remembers the addresses FreeAddr returned in this process.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// DeleteTopics deletes topics and every topic whose name starts with one of the
// prefixes followed by "-" (internal topics: <app id>-...-repartition,
// <group>-loop, ...), and waits until they are gone.
func DeleteTopics(ctx context.Context, addr string, topics, prefixes []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	all, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var doomed []string
	for _, t := range all.Names() {
		del := false
		for _, want := range topics {
			del = del || t == want
		}
		for _, p := range prefixes {
			del = del || strings.HasPrefix(t, p+"-")
		}
		if del {
			doomed = append(doomed, t)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	var errs []error
	resp, err := adm.DeleteTopics(ctx, doomed...)
	if err != nil {
		return fmt.Errorf("delete topics %v: %w", doomed, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", r.Topic, r.Err))
		}
	}
	if err := WaitGone(ctx, adm, doomed); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// WaitGone waits until none of topics is listed any more (Kafka deletes topics
// asynchronously; a name cannot be created again before that).
func WaitGone(ctx context.Context, adm *kadm.Client, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	return WaitFor(ctx, 60*time.Second, func() bool {
		listed, err := adm.ListTopics(ctx, topics...)
		if err != nil {
			return false
		}
		for _, t := range listed {
			if t.Err == nil {
				return false
			}
		}
		return true
	})
}

// DeleteGroups deletes the consumer groups that exist among groups (an
// application's committed offsets), retrying those still non-empty (members
// whose session has not timed out yet) until ctx ends.
func DeleteGroups(ctx context.Context, addr string, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	left := map[string]bool{}
	for _, g := range groups {
		if _, ok := listed[g]; ok {
			left[g] = true
		}
	}
	for len(left) > 0 {
		var names []string
		for g := range left {
			names = append(names, g)
		}
		resp, err := adm.DeleteGroups(ctx, names...)
		if err != nil && len(resp) == 0 {
			return fmt.Errorf("delete groups %v: %w", names, err)
		}
		for _, r := range resp {
			if r.Err == nil || errors.Is(r.Err, kerr.GroupIDNotFound) {
				delete(left, r.Group)
			}
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("consumer groups %v still not deleted: %w", names, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return nil
}

// Kafka is a real single-node Apache Kafka broker (KRaft, on 127.0.0.1)
// started by test/kafka/kafka.sh.
type Kafka struct {
	Addr   string // its bootstrap address
	PID    int    // its JVM's process id; 0 when unknown
	script string
	dir    string
}

// StartKafka runs script (test/kafka/kafka.sh) start dir and returns the broker
// once the script has written its bootstrap address. On an error the broker is
// stopped again.
func StartKafka(ctx context.Context, script, dir string) (*Kafka, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("a real broker needs %s: %w", script, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	k := &Kafka{script: script, dir: dir}
	out, err := exec.CommandContext(ctx, script, "start", dir).CombinedOutput()
	if err != nil {
		k.Stop()
		return nil, fmt.Errorf("%s start: %w\n%s", script, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		k.Stop()
		return nil, fmt.Errorf("%s start wrote no bootstrap file: %w\n%s", script, err, out)
	}
	k.Addr = strings.TrimSpace(string(b))
	if p, err := os.ReadFile(filepath.Join(dir, "kafka.pid")); err == nil {
		k.PID, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	return k, nil
}

// Stop stops the broker (script stop dir); what goes wrong is printed to stderr.
func (k *Kafka) Stop() {
	if out, err := exec.Command(k.script, "stop", k.dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the Kafka broker in %s: %v\n%s", k.dir, err, out)
	}
}

// BrokerVersion is the broker's version as franz-go guesses it from
// ApiVersions ("" when the broker does not answer).
func BrokerVersion(ctx context.Context, addr string) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return ""
	}
	defer cl.Close()
	version := ""
	if vs, err := kadm.NewClient(cl).ApiVersions(ctx); err == nil {
		vs.Each(func(v kadm.BrokerApiVersions) { version = v.VersionGuess() })
	}
	return version
}

// ResetTopics creates fresh, empty topics with partitions partitions each (and
// replication 1): any that already exist (fixed names left over from an earlier
// run) are deleted first.
func ResetTopics(ctx context.Context, adm *kadm.Client, partitions int32, topics ...string) error {
	listed, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var existing []string
	for _, t := range listed {
		if t.Err == nil {
			existing = append(existing, t.Topic)
		}
	}
	if len(existing) > 0 {
		if _, err := adm.DeleteTopics(ctx, existing...); err != nil {
			return fmt.Errorf("delete old topics %v: %w", existing, err)
		}
		if err := WaitGone(ctx, adm, existing); err != nil {
			return fmt.Errorf("old topics %v not deleted: %w", existing, err)
		}
	}
	for _, t := range topics {
		// Right after a deletion Kafka may still answer TOPIC_ALREADY_EXISTS.
		err := Retry(ctx, 60*time.Second, func() error {
			resp, err := adm.CreateTopic(ctx, partitions, 1, nil, t)
			if err != nil {
				return err
			}
			return resp.Err
		})
		if err != nil {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}

// VmHWM is a process's peak resident set in KiB, from /proc. (getrusage's
// ru_maxrss is no good here: it survives exec, so a child started by a large
// parent reports the parent's peak.)
func VmHWM(pid int) int64 {
	return ProcField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
}

// ProcField reads the number after name in a /proc file such as status or meminfo.
func ProcField(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			var n int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &n)
			return n
		}
	}
	return 0
}

// LoadAverage is /proc/loadavg's first three fields, for a benchmark's report:
// other work on the machine while it ran skews its figures.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Machine describes this computer for the report: cores, memory, CPU model, kernel.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	memGiB := float64(ProcField("/proc/meminfo", "MemTotal:")) / (1 << 20)
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB memory (MemTotal), %s, %s", runtime.NumCPU(), model, memGiB, kernel, runtime.Version())
}

// WriteFile writes data to path, relative to the repository root unless
// absolute, making its directory.
func WriteFile(root, path string, data []byte) error {
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// RepoRoot finds the directory of the github.com/gofka/streams go.mod from the
// working directory upwards, so a benchmark runs from the bench module (make
// bench) or from its own directory (go test).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/gofka/streams\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the github.com/gofka/streams module")
		}
		dir = parent
	}
}
