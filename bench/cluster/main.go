// Command cluster benchmarks the distributed runtime with the click-count binary
// (examples/clickcount) run as real processes on one machine, side by side in one
// run, as `make bench-cluster` (part of `make bench`) does:
//
//	cd bench && go run ./cluster -keys 10000000 -runs 3 -out bench/results/cluster.md   # the defaults
//	cd bench && go run ./cluster -keys 200000 -n 200000 -runs 1 -broker embedded        # a quick run
//
// (bench is a module of its own; -out and -raw are relative to the repository root.)
//
// Four scenarios (-scenarios picks some), each on a broker of its own choosing
// (broker.go: a real single-node Apache Kafka through test/kafka/kafka.sh, a fresh
// embedded kfake broker process per scenario, or a running broker at host:port):
//
//	failover (failover.go): 3 replicas, defaults (--failure-timeout 3s, checkpoints
//	  every 10s), a steady stream of clicks ─▶ SIGKILL a non-leader, then the
//	  leader ─▶ time until each of the victim's tasks writes again on its new owner
//	  (the first output record, by its broker append time, after the kill) and until
//	  the new owner logged "task started" ─▶ restart the victim, wait until
//	  balanced and flowing ─▶ again, -runs times.
//	restore (restore.go): 1 replica counts -keys distinct users (so the store and
//	  its changelog hold -keys keys) ─▶ a checkpoint completes ─▶ SIGTERM ─▶
//	  (a) state/ deleted: restore from the snapshot, (b) state/ and snapshots
//	  deleted: full changelog replay; time until /readyz and the tasks'
//	  restore_duration; the restored store is read back and checked each time.
//	standby (standby.go): 3 replicas count -keys distinct users, a steady stream
//	  flows ─▶ SIGKILL the non-leader running the most count tasks, with
//	  --standby-replicas 1 and 0 side by side ─▶ time from the kill and from
//	  the failure's detection (the leader's assignment change declaring it
//	  dead) to the first output record of each of its count tasks elsewhere.
//	checkpoint (overhead.go): 1 replica, -n preloaded clicks, time until the whole
//	  input is reflected in the output with --checkpoint-interval 1s and 0,
//	  alternating.
//
// The report (report.go) gives medians and maxima, the targets met or
// missed by how much, the machine, the broker and the exact command, as Markdown
// (-out, also printed) and every measurement as JSON (-raw).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofka/streams/internal/termbar"
	"github.com/gofka/streams/internal/testkit"
)

// config is one invocation of the benchmark.
type config struct {
	broker     string // auto, real, embedded or host:port
	keys       int    // distinct keys in the restore scenario
	n          int    // preloaded clicks in the checkpoint-overhead scenario
	runs       int
	rate       int // clicks per second during the failover scenario
	partitions int32
	scenarios  []string
	// checkpointInterval is the replicas' --checkpoint-interval in the failover
	// and restore scenarios (the binary's default, 10s, unless changed).
	checkpointInterval time.Duration
	verify             bool // read the restored store back after every restore
	// fillMemory is the restore scenario's replica --memory while it counts
	// the keys; the restores themselves run with the default.
	fillMemory string
	out, raw   string
	command    string
	keep       bool
	timeout    time.Duration // hang guard for one scenario
	// The memory scenario (memory.go): key counts, --memory sizes, key/size
	// cells to skip, and the git revision whose binary is "before".
	memoryKeys  []int
	memorySizes []string
	memorySkip  []string
	baseline    string
	logf        func(format string, args ...any)
}

var allScenarios = []string{"failover", "restore", "checkpoint", "standby"}

// knownScenarios: memory runs only when asked for (make bench-memory).
var knownScenarios = append(slices.Clone(allScenarios), "memory")

func main() {
	var cfg config
	var scenarios string
	flag.StringVar(&cfg.broker, "broker", "auto", "real (test/kafka/kafka.sh), embedded (a kfake process per scenario), host:port of a running broker, or auto: real when java, mvn and kcat are on the PATH")
	flag.IntVar(&cfg.keys, "keys", 10_000_000, "distinct keys in the store for the restore scenario")
	flag.IntVar(&cfg.n, "n", 1_000_000, "preloaded clicks for the checkpoint-overhead scenario")
	flag.IntVar(&cfg.runs, "runs", 3, "repetitions of every measurement")
	flag.IntVar(&cfg.rate, "rate", 20_000, "clicks per second streamed during the failover scenario")
	partitions := flag.Int("partitions", 4, "partitions of the input and output topics (tasks per sub-topology)")
	flag.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run: failover, restore, checkpoint, standby, memory (not by default: make bench-memory)")
	flag.DurationVar(&cfg.checkpointInterval, "checkpoint-interval", 10*time.Second, "--checkpoint-interval of the replicas in the failover and restore scenarios")
	flag.StringVar(&cfg.fillMemory, "fill-memory", "", "--memory of the restore scenario's replica while it counts the keys (default: the binary's 256MiB, as for the restores)")
	flag.BoolVar(&cfg.verify, "verify", true, "after every restore, read the store back and check it holds exactly the expected keys and counts")
	flag.StringVar(&cfg.out, "out", "bench/results/cluster.md", "where to write the Markdown report, relative to the repository root unless absolute (empty: only print it)")
	flag.StringVar(&cfg.raw, "raw", "bench/results/cluster-runs.json", "where to write every measurement as JSON, relative to the repository root unless absolute (empty: nowhere)")
	flag.StringVar(&cfg.command, "command", "", "how the benchmark was invoked, for the report (default: the go run command line)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the scratch directory (replica logs, state, snapshots) and print its path")
	flag.DurationVar(&cfg.timeout, "timeout", 20*time.Minute, "hang guard for one scenario")
	memKeys := flag.String("memory-keys", "100000,1000000,10000000", "memory scenario: comma-separated key counts")
	memSizes := flag.String("memory-sizes", "128MiB,256MiB,512MiB", "memory scenario: comma-separated --memory values")
	memSkip := flag.String("memory-skip", "", "memory scenario: comma-separated keys/size cells not to run, e.g. 10000000/512MiB")
	flag.StringVar(&cfg.baseline, "baseline", "", "memory scenario: git revision to build the \"before\" binary at (empty: only this tree)")
	flag.Parse()
	for _, k := range strings.Split(*memKeys, ",") {
		n, err := strconv.Atoi(k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cluster: -memory-keys:", err)
			os.Exit(2)
		}
		cfg.memoryKeys = append(cfg.memoryKeys, n)
	}
	cfg.memorySizes = strings.Split(*memSizes, ",")
	if *memSkip != "" {
		cfg.memorySkip = strings.Split(*memSkip, ",")
	}
	cfg.partitions = int32(*partitions)
	cfg.scenarios = strings.Split(scenarios, ",")
	if cfg.command == "" {
		cfg.command = "cd bench && go run ./cluster " + strings.Join(os.Args[1:], " ")
	}
	cfg.logf = func(format string, args ...any) {
		fmt.Printf("%s "+format, append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
	fmt.Print(rep)
}

// check rejects flag values the scenarios cannot work with.
func (cfg config) check() error {
	for _, s := range cfg.scenarios {
		if !slices.Contains(knownScenarios, s) {
			return fmt.Errorf("-scenarios: unknown scenario %q (want some of %s)", s, strings.Join(knownScenarios, ", "))
		}
	}
	switch {
	case cfg.runs < 1:
		return fmt.Errorf("-runs must be at least 1, not %d", cfg.runs)
	case cfg.keys < 1:
		return fmt.Errorf("-keys must be at least 1, not %d", cfg.keys)
	case cfg.n < 1:
		return fmt.Errorf("-n must be at least 1, not %d", cfg.n)
	case cfg.rate < 100:
		return fmt.Errorf("-rate must be at least 100 clicks/s, not %d", cfg.rate)
	case cfg.partitions < 1:
		return fmt.Errorf("-partitions must be at least 1, not %d", cfg.partitions)
	case cfg.checkpointInterval <= 0:
		return fmt.Errorf("-checkpoint-interval must be positive, not %s (the restore scenario needs snapshots)", cfg.checkpointInterval)
	}
	return nil
}

func (cfg config) wants(scenario string) bool { return slices.Contains(cfg.scenarios, scenario) }

// run builds the binary, provides the broker, runs the chosen scenarios and
// writes the report; it returns the Markdown.
func run(ctx context.Context, cfg config) (string, error) {
	started := time.Now()
	root, err := testkit.RepoRoot()
	if err != nil {
		return "", err
	}
	scratch, err := os.MkdirTemp("", "gofka-bench-cluster-")
	if err != nil {
		return "", err
	}
	if cfg.keep {
		defer cfg.logf("kept the scratch directory %s (logs, state, snapshots)\n", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	rep := &report{cfg: cfg, started: started, machine: testkit.Machine(), load: testkit.LoadAverage()}

	cfg.logf("building examples/clickcount\n")
	bin, err := buildBinary(ctx, root, scratch)
	if err != nil {
		return "", err
	}
	b, err := pickBroker(ctx, cfg, root, bin, scratch)
	if err != nil {
		return "", err
	}
	defer b.close()
	rep.broker = b.describe()
	cfg.logf("broker: %s\n", rep.broker)

	// On a terminal, a bar over the scenarios; the log lines print above it.
	var chosen int64
	for _, s := range knownScenarios {
		if cfg.wants(s) {
			chosen++
		}
	}
	bar := termbar.New(os.Stderr, chosen, "cluster", "scenarios")
	defer bar.Finish()
	logf := cfg.logf
	cfg.logf = func(format string, args ...any) { bar.Above(func() { logf(format, args...) }) }
	env := &env{cfg: cfg, bin: bin, scratch: scratch, brokers: b, token: fmt.Sprintf("%d", started.Unix()%1_000_000)}
	// A failed scenario is reported and the others still run: one broken
	// measurement should not hide the rest.
	var failed []error
	fail := func(scenario string, err error) {
		err = fmt.Errorf("%s scenario: %w", scenario, err)
		cfg.logf("FAILED: %v\n", err)
		failed = append(failed, err)
		rep.failures = append(rep.failures, err.Error())
	}
	if cfg.wants("failover") {
		cfg.logf("failover: 3 replicas, %d clicks/s, %d runs\n", cfg.rate, cfg.runs)
		bar.Describe("cluster: failover")
		if rep.failover, err = runFailover(ctx, env); err != nil {
			fail("failover", err)
		}
		bar.Add(1)
	}
	if cfg.wants("checkpoint") && ctx.Err() == nil {
		cfg.logf("checkpoint overhead: %d clicks, --checkpoint-interval 1s vs 0, %d runs each\n", cfg.n, cfg.runs)
		bar.Describe("cluster: checkpoint")
		if rep.overhead, err = runOverhead(ctx, env); err != nil {
			fail("checkpoint-overhead", err)
		}
		bar.Add(1)
	}
	if cfg.wants("restore") && ctx.Err() == nil {
		cfg.logf("restore: %d keys, snapshot vs changelog replay, %d runs each\n", cfg.keys, cfg.runs)
		bar.Describe("cluster: restore")
		if rep.restore, err = runRestore(ctx, env); err != nil {
			fail("restore", err)
		}
		bar.Add(1)
	}
	if cfg.wants("standby") && ctx.Err() == nil {
		cfg.logf("standby: 3 replicas, %d keys, SIGKILL with --standby-replicas 1 and 0, %d runs each\n", cfg.keys, cfg.runs)
		bar.Describe("cluster: standby")
		if rep.standby, err = runStandby(ctx, env); err != nil {
			fail("standby", err)
		}
		bar.Add(1)
	}
	if cfg.wants("memory") && ctx.Err() == nil {
		cfg.logf("memory: keys %v, --memory %v, baseline %q\n", cfg.memoryKeys, cfg.memorySizes, cfg.baseline)
		if rep.memory, err = runMemory(ctx, env); err != nil {
			fail("memory", err)
		}
		bar.Add(1)
	}
	bar.Finish()
	if ctx.Err() != nil {
		return "", fmt.Errorf("interrupted: %w (no report written)", ctx.Err())
	}
	rep.finished, rep.loadEnd = time.Now(), testkit.LoadAverage()
	md := rep.markdown()
	if cfg.out != "" {
		if err := testkit.WriteFile(root, cfg.out, []byte(md)); err != nil {
			return "", err
		}
		cfg.logf("wrote %s\n", cfg.out)
	}
	if cfg.raw != "" {
		raw, err := rep.json()
		if err != nil {
			return "", err
		}
		if err := testkit.WriteFile(root, cfg.raw, raw); err != nil {
			return "", err
		}
		cfg.logf("wrote %s\n", cfg.raw)
	}
	if len(failed) > 0 {
		fmt.Print(md)
		return "", errors.Join(failed...)
	}
	return md, nil
}

// env is what every scenario shares: the binary, the broker and scratch space.
type env struct {
	cfg     config
	bin     string
	scratch string
	brokers brokers
	token   string // makes application ids unique per invocation
}
