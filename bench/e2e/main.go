// Command e2e is the end-to-end benchmark behind `make bench`: click-count through
// a Kafka-protocol broker, written four ways and run side by side on one machine
// in one run, with raw franz-go pipes as the broker-bound limits:
//
//	cd bench && go run ./e2e -n 1000000 -runs 3            # what make bench runs
//	cd bench && go run ./e2e -n 20000 -runs 1 -broker embedded
//	cd bench && go run ./e2e -eos -n 1000000 -runs 1           # make bench-eos (eos.go)
//	cd bench && go run ./e2e -windowed -n 1000000 -runs 1      # make bench-windowed (windowed.go)
//
// Contenders (contenders.go): a raw consume→produce pipe (one hop, and two hops
// through an intermediate topic as a repartitioning topology takes), the gofka
// binary generated from examples/clickcount, the Kafka Streams peer
// (bench/peers/kstreams, with Kafka Streams' default 10 MiB record cache and
// with no cache) and the goka peer (bench/peers/goka).
//
// The path of one measurement (measure.go):
//
//	broker ─▶ create fresh topics ─▶ load the same N clicks ─▶ start the contender
//	  as its own process ─▶ poll until the whole input is reflected in its output
//	  (timed from start) ─▶ SIGTERM ─▶ CPU seconds (getrusage of the child) and
//	  peak RSS (VmHWM from /proc) ─▶ read the output back and check every count
//	  against counts computed here, independently ─▶ delete the topics
//
// The broker (cluster.go) is a real single-node Apache Kafka started once through
// test/kafka/kafka.sh ("-broker real", the default when java and mvn are on the
// PATH), a fresh embedded kfake broker per measurement ("-broker embedded"), or
// any running broker ("-broker host:port"). Runs alternate the order of the
// contenders. The report (report.go, chart.go) gives medians, each contender's
// rate relative to gofka, the targets met or missed by how much, a
// Markdown table (-out) and a PNG chart (-chart); a CPU profile of one extra,
// unmeasured gofka run goes to -profile-dir so shortfalls say where time goes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is one invocation of the benchmark.
type config struct {
	n           int
	runs        int
	partitions  int32
	broker      string // "auto", "real", "embedded" or an address
	contenders  []string
	out         string // Markdown table; empty: none
	chart       string // PNG chart; empty: none
	profileDir  string // gofka CPU profile and its pprof -top; empty: none
	timeout     time.Duration
	command     string // how the benchmark was invoked, for the report
	verify      bool
	javaHeap    string
	logTo       func(format string, args ...any)
	gofkaCommit time.Duration
	// gofkaBase is a click-count binary built elsewhere (say, from main before
	// a change): contender gofka-base runs it beside gofka, in the same run.
	gofkaBase string
	// gofkaLogLevel is gofka's --log-level (debug logs each commit's phases).
	gofkaLogLevel string
	keep          bool // keep the scratch directory (logs, state) and print where it is
	eos           eosConfig
	windowed      bool // the windowed benchmark (windowed.go)
}

func main() {
	var cfg config
	var contenders string
	flag.IntVar(&cfg.n, "n", 1_000_000, "clicks per measurement")
	flag.IntVar(&cfg.runs, "runs", 3, "runs per contender (the order alternates between runs)")
	partitions := flag.Int("partitions", 4, "partitions of every topic")
	flag.StringVar(&cfg.broker, "broker", "auto", "real (test/kafka/kafka.sh), embedded (kfake), host:port of a running broker, or auto: real when java and mvn are on the PATH")
	flag.StringVar(&contenders, "contenders", strings.Join(contenderIDs(), ","), "comma-separated contenders to run")
	flag.StringVar(&cfg.out, "out", "bench/results/e2e.md", "where to write the Markdown report, relative to the repository root unless absolute (empty: nowhere)")
	flag.StringVar(&cfg.chart, "chart", "bench/results/e2e.png", "where to write the PNG chart, relative to the repository root unless absolute (empty: nowhere)")
	flag.StringVar(&cfg.profileDir, "profile-dir", "bench/results", "where to write gofka.cpu.pprof and gofka-profile.txt from one extra gofka run, relative to the repository root unless absolute (empty: no profile)")
	flag.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "hang guard for one measurement")
	flag.StringVar(&cfg.command, "command", "", "how the benchmark was invoked, for the report (default: the go run command line)")
	flag.BoolVar(&cfg.verify, "verify", true, "after each measurement, read the output back and check every count")
	flag.StringVar(&cfg.javaHeap, "java-heap", "1g", "maximum heap of the Kafka Streams JVM (-Xmx)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the scratch directory (each contender's log and state) and print its path")
	flag.StringVar(&cfg.gofkaLogLevel, "gofka-log-level", "warn", "gofka's --log-level; debug logs how long each commit's phases took (in the contender's log, kept with -keep)")
	flag.DurationVar(&cfg.gofkaCommit, "gofka-commit-interval", 5*time.Second, "gofka's --commit-interval (Kafka Streams gets the same commit.interval.ms)")
	flag.BoolVar(&cfg.windowed, "windowed", false, "run the windowed benchmark (windowed.go: examples/pageviews vs Kafka Streams' WindowedCount) instead of click-count; -out defaults to bench/results/windowed.md, -contenders to "+strings.Join(idsOf(windowedContenders), ","))
	flag.StringVar(&cfg.gofkaBase, "gofka-base", "", "a click-count binary built elsewhere (go build -o X ./examples/clickcount at another commit), for contender gofka-base: a before/after comparison in one run")
	eosFlags := addEOSFlags(&cfg.eos)
	flag.Parse()
	if err := eosFlags.parse(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	if cfg.windowed {
		if !eosFlags.set["out"] {
			cfg.out = "bench/results/windowed.md"
		}
		if !eosFlags.set["contenders"] {
			contenders = strings.Join(idsOf(windowedContenders), ",")
		}
	}
	cfg.partitions = int32(*partitions)
	cfg.contenders = strings.Split(contenders, ",")
	if cfg.command == "" {
		cfg.command = "cd bench && go run ./e2e " + strings.Join(os.Args[1:], " ")
	}
	cfg.logTo = func(format string, args ...any) { fmt.Printf(format, args...) }

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var markdown string
	var err error
	switch {
	case cfg.eos.on:
		markdown, _, err = runEOS(ctx, cfg)
	case cfg.windowed:
		var rep *report
		if rep, err = runWindowed(ctx, cfg); err == nil {
			markdown = rep.markdown
		}
	default:
		var rep *report
		if rep, err = run(ctx, cfg); err == nil {
			markdown = rep.markdown
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	fmt.Print(markdown)
}
