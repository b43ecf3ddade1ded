// Command e2e measures click-count end to end through a broker, side by side with
// a raw franz-go consume→produce pipe (the limit for a Kafka-to-Kafka topology),
// and the same pipe taking a second hop through an intermediate topic (the limit
// for a topology that repartitions, as click-count does):
//
//	go run ./bench/e2e -n 1000000 -runs 3
//
// For every run and contender it starts a fresh standalone broker process (the
// embedded development broker of a generated binary), loads the same N clicks into
// user-clicks, starts the contender as its own process, and times it from start
// until the whole input is reflected in its output (N records for the pipe, one
// count update per real click for click-count). CPU seconds are the contender
// process's own (getrusage); peak RSS is its VmHWM, read from /proc while it runs. Runs alternate the order of the contenders;
// the table reports medians and each contender's rate relative to the raw pipe.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type contender struct {
	name string
	// args builds the command line for a broker address and a scratch directory.
	args func(bin map[string]string, broker, dir string) []string
	// out is the output topic; want the number of records that completes a run.
	out   string
	extra []string // other topics to create first
	want  func(n, real int) int
}

var contenders = []contender{
	{
		name: "raw franz-go pipe",
		args: func(bin map[string]string, broker, _ string) []string {
			return []string{bin["pipe"], "-brokers", broker, "-in", "user-clicks", "-out", "pipe-out"}
		},
		out:  "pipe-out",
		want: func(n, _ int) int { return n },
	},
	{
		name: "raw pipe, two hops",
		args: func(bin map[string]string, broker, _ string) []string {
			return []string{bin["pipe"], "-brokers", broker, "-in", "user-clicks", "-via", "pipe-mid", "-out", "pipe-out2"}
		},
		out:   "pipe-out2",
		extra: []string{"pipe-mid"},
		want:  func(n, _ int) int { return n },
	},
	{
		name: "gofka click-count",
		args: func(bin map[string]string, broker, dir string) []string {
			args := []string{bin["clickcount"], "run", "--brokers", broker, "--state-dir", dir, "--log-level", "warn"}
			if p := os.Getenv("GOFKA_BENCH_CPU_PROFILE"); p != "" {
				args = append(args, "--cpu-profile", p)
			}
			return args
		},
		out:  "user-click-counts",
		want: func(_, real int) int { return real },
	},
}

type result struct {
	contender string
	seconds   float64
	cpu       float64
	rssMB     float64
}

func main() {
	n := flag.Int("n", 1_000_000, "records per run")
	runs := flag.Int("runs", 3, "runs per contender (order alternates)")
	partitions := flag.Int("partitions", 4, "partitions of the input topic")
	out := flag.String("out", "bench/results/e2e.md", "where to write the Markdown table")
	flag.Parse()
	if err := run(*n, *runs, int32(*partitions), *out); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run(n, runs int, partitions int32, outPath string) error {
	dir, err := os.MkdirTemp("", "gofka-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := map[string]string{"clickcount": filepath.Join(dir, "clickcount"), "pipe": filepath.Join(dir, "pipe")}
	for name, pkg := range map[string]string{"clickcount": "./examples/clickcount", "pipe": "./bench/e2e/pipe"} {
		if out, err := exec.Command("go", "build", "-o", bin[name], pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	values, real := clicks(n)
	fmt.Printf("%d clicks (%d real), %d partitions, %d runs per contender\n", n, real, partitions, runs)

	var results []result
	for r := 0; r < runs; r++ {
		order := append([]contender(nil), contenders...)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, c := range order {
			res, err := measure(c, bin, values, real, partitions, filepath.Join(dir, fmt.Sprintf("run%d", r)))
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", c.name, r+1, err)
			}
			fmt.Printf("run %d  %-20s %7.2f s  %10.0f rec/s  cpu %6.2f s  rss %6.1f MB\n",
				r+1, c.name, res.seconds, float64(n)/res.seconds, res.cpu, res.rssMB)
			results = append(results, res)
		}
	}
	table := report(results, n, runs)
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return err
	}
	return os.WriteFile(outPath, []byte(table), 0o644)
}

// clicks makes n deterministic click values, a tenth of them bots.
func clicks(n int) ([][]byte, int) {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([][]byte, n)
	real := 0
	for i := range out {
		bot := rng.IntN(10) == 0
		if !bot {
			real++
		}
		v, _ := json.Marshal(map[string]any{"user": fmt.Sprintf("user-%d", rng.IntN(10_000)), "url": fmt.Sprintf("/page/%d", rng.IntN(100)), "bot": bot})
		out[i] = v
	}
	return out, real
}

func measure(c contender, bin map[string]string, values [][]byte, real int, partitions int32, scratch string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	addr, err := freeAddr()
	if err != nil {
		return result{}, err
	}
	broker := exec.Command(bin["clickcount"], "broker", "--listen", addr, "--partitions", fmt.Sprint(partitions))
	if err := broker.Start(); err != nil {
		return result{}, err
	}
	defer func() { broker.Process.Kill(); broker.Wait() }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := waitFor(ctx, func() bool { _, err := adm.ListBrokers(ctx); return err == nil }); err != nil {
		return result{}, fmt.Errorf("broker did not start: %w", err)
	}
	if _, err := adm.CreateTopics(ctx, partitions, 1, nil, append([]string{"user-clicks", c.out}, c.extra...)...); err != nil {
		return result{}, err
	}
	for i, v := range values {
		cl.Produce(ctx, &kgo.Record{Topic: "user-clicks", Key: []byte(fmt.Sprintf("click-%d", i)), Value: v}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		return result{}, fmt.Errorf("load input: %w", err)
	}

	want := int64(c.want(len(values), real))
	args := c.args(bin, addr, scratch)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	var peakKB int64
	done := func() bool {
		peakKB = max(peakKB, vmHWM(cmd.Process.Pid))
		ends, err := adm.ListEndOffsets(ctx, c.out)
		if err != nil {
			return false
		}
		var total int64
		ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		return total >= want
	}
	err = waitFor(ctx, done)
	elapsed := time.Since(start)
	peakKB = max(peakKB, vmHWM(cmd.Process.Pid))
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		return result{}, fmt.Errorf("output incomplete: %w", err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return result{contender: c.name, seconds: elapsed.Seconds(), cpu: cpu, rssMB: float64(peakKB) / 1024}, nil
}

// vmHWM is a process's peak resident set in KiB, from /proc. (getrusage's
// ru_maxrss is no good here: it survives exec, so a child started by a large
// parent reports the parent's peak.)
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb
		}
	}
	return 0
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// report renders medians per contender and rates relative to the raw pipe.
func report(results []result, n, runs int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\nEnd-to-end click-count, %d records, median of %d runs (%s, %s, %d CPUs)\n\n",
		n, runs, time.Now().UTC().Format("2006-01-02"), host, numCPU())
	b.WriteString("| contender | records/s | vs raw pipe | seconds | CPU seconds | peak RSS MB |\n|---|---:|---:|---:|---:|---:|\n")
	var pipeRate float64
	for _, c := range contenders {
		var secs, cpus, rss []float64
		for _, r := range results {
			if r.contender == c.name {
				secs, cpus, rss = append(secs, r.seconds), append(cpus, r.cpu), append(rss, r.rssMB)
			}
		}
		rate := float64(n) / median(secs)
		if pipeRate == 0 {
			pipeRate = rate
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f× | %.2f | %.2f | %.0f |\n", c.name, rate, rate/pipeRate, median(secs), median(cpus), median(rss))
	}
	return b.String()
}
