// Command nexmark runs the Nexmark queries through a Kafka broker (issue 15,
// point 8 (b) and (c)): the generated gofka program of each query (gofkaq,
// the topologies of examples/nexmark/queries) and the same query written in
// Kafka Streams 3.9.1 (bench/peers/kstreams, gofka.bench.NexmarkQ<N>), one
// after the other on the same broker and the same pre-loaded topic, and checks
// both outputs against the brute-force reference (examples/nexmark/reference).
//
//	nexmark gen (in memory) ──▶ topic nexmark-events (1 partition, + 2 end marks)
//	   ├─▶ gofkaq --topology QN ──▶ nexmark-qN ──┐
//	   └─▶ java gofka.bench.NexmarkQN ─▶ ks-qN ──┴─▶ rows == reference.Run(qN)? events/s, events per CPU s
//
// Each run lasts from the process's start until its last expected row arrived
// (start-up included: the JVM's and the consumer group's, as gofka's), and its
// CPU time is the process's user + system time then. The report table puts
// these beside the in-process figure of `make nexmark` (a) (-inprocess, the
// go test -bench output) and Flink's and Feldera's published per-core figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/examples/nexmark/generator"
	"github.com/gofka/streams/internal/termbar"
	"github.com/gofka/streams/internal/testkit"
)

// query is one Nexmark query as the driver runs it; empty names: not built.
type query struct {
	name     string // q0 …
	topology string // gofkaq --topology
	class    string // the Kafka Streams peer's class
	// table: the sink gets a table's updates (q4: a category's average each
	// time it changes, a null value deletes it), and the rows are the last
	// value of each key, as Flink's final result of the query.
	table bool
}

// stall is how long a gofka run may go without writing a row (-stall).
var stall = 90 * time.Second

// queries lists the suite's queries in order. Adding one is its names here,
// its Compiled<Q> in gofkaq/main.go and its peer class gofka.bench.NexmarkQ<N>.
var queries = []query{
	{"q0", "Q0", "gofka.bench.NexmarkQ0", false},
	{"q1", "Q1", "gofka.bench.NexmarkQ1", false},
	{"q2", "Q2", "gofka.bench.NexmarkQ2", false},
	{"q3", "Q3", "gofka.bench.NexmarkQ3", false},
	{"q4", "Q4", "gofka.bench.NexmarkQ4", true},
	{"q5", "Q5", "gofka.bench.NexmarkQ5", false},
	{"q7", "Q7", "gofka.bench.NexmarkQ7", false},
	{"q8", "Q8", "gofka.bench.NexmarkQ8", false},
	{"q11", "Q11", "gofka.bench.NexmarkQ11", false},
}

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap address (required)")
	n := flag.Int64("events", 100_000, "events to generate")
	rate := flag.Int("rate", generator.Default().Rate, "events per second of event time (fewer: more windows for the same events)")
	only := flag.String("queries", "", "comma-separated queries to run (default: every built one)")
	java := flag.Bool("kstreams", true, "run the Kafka Streams peers too (needs java and mvn)")
	inproc := flag.String("inprocess", "bench/results/nexmark.txt", "go test -bench output of make nexmark (a), for the in-process column ('' for none)")
	out := flag.String("out", "bench/results/nexmark.md", "report to write (what follows its marker line, the in-process report of make nexmark (a), is kept below the table), and its chart beside it (.png)")
	timeout := flag.Duration("timeout", 10*time.Minute, "longest run of one query by one program")
	flag.DurationVar(&stall, "stall", stall, "a gofka run that wrote no row for this long has failed (and is run again)")
	flag.Parse()
	if err := run(*brokers, *n, *rate, *only, *java, *inproc, *out, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "nexmark:", err)
		os.Exit(1)
	}
}

func run(brokers string, n int64, rate int, only string, java bool, inproc, out string, timeout time.Duration) (err error) {
	if brokers == "" {
		return fmt.Errorf("-brokers is required")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "nexmark-broker-")
	if err != nil {
		return err
	}
	defer func() { // kept, with the programs' logs, when a run failed
		if err == nil {
			os.RemoveAll(work)
		}
	}()
	bin := filepath.Join(work, "gofkaq")
	build := exec.Command("go", "build", "-o", bin, "./nexmark/gofkaq")
	build.Dir = filepath.Join(root, "bench")
	if msg, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./nexmark/gofkaq: %v\n%s", err, msg)
	}
	peer := testkit.KStreamsPeerDir(root)
	if java {
		if err := testkit.BuildKStreamsPeer(peer, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f, a...) }); err != nil {
			return err
		}
	}
	ctx := context.Background()
	in, err := generate(n, rate)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := preload(ctx, cl, in); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pre-loaded %d events (+2 end marks) into %s\n", n, eventsTopic)
	if inproc != "" && !filepath.IsAbs(inproc) {
		inproc = filepath.Join(root, inproc)
	}
	rep := &report{events: n, rate: rate, inproc: readInProcess(inproc), load: loadAvg()}
	stamp := time.Now().UnixNano()
	failed := false
	// On a terminal, a bar over the queries run; the progress lines print above it.
	var torun int64
	for _, q := range queries {
		if q.topology != "" && (only == "" || strings.Contains(","+only+",", ","+q.name+",")) {
			torun++
		}
	}
	bar := termbar.New(os.Stderr, torun, "nexmark", "queries")
	defer bar.Finish()
	for _, q := range queries {
		if q.topology == "" || (only != "" && !strings.Contains(","+only+",", ","+q.name+",")) {
			rep.rows = append(rep.rows, row{q: q})
			continue
		}
		want, err := expected(q.name, in.events)
		if err != nil {
			return err
		}
		r := row{q: q, want: len(want)}
		bar.Describe("nexmark: " + q.name)
		dir := filepath.Join(work, q.name+"-gofka")
		os.MkdirAll(dir, 0o755)
		gofkaRun := func(try int) (result, error) {
			return runOne(ctx, []string{brokers}, []string{bin, "--brokers", brokers, "--topology", q.topology,
				"--app-id", fmt.Sprintf("nexmark-%s-%d-%d", q.name, stamp, try), "--state-dir", filepath.Join(dir, fmt.Sprint("state", try)),
				"--status-addr", "", "--discovery=false", "--log-level", "warn"}, filepath.Join(dir, fmt.Sprint(try)), "nexmark-"+q.name, want, q.table, timeout, stall)
		}
		// A gofkaq that failed (or wrote no row within -stall) is run again,
		// once, and the table says so: now and then a single replica never
		// gets its tasks (the engine polls, the coordinator waits in its join
		// loop; seen on 2 of about 20 runs).
		g, err := gofkaRun(0)
		if err != nil {
			bar.Printf(os.Stderr, "gofka %s: %v; running it again\n", q.name, err)
			g, err = gofkaRun(1)
			g.retried = true
		}
		if err != nil { // reported in the table; the other runs go on
			bar.Printf(os.Stderr, "gofka %s: %v\n", q.name, err)
			failed, g = true, result{rows: -1, err: err.Error()}
		}
		r.gofka = &g
		bar.Printf(os.Stderr, "%s gofka: %d rows, match %v %s, %.1f s, %.1f CPU s\n", q.name, g.rows, g.match, g.diff, g.wall, g.cpu)
		if java {
			dir := filepath.Join(work, q.name+"-kstreams")
			os.MkdirAll(dir, 0o755)
			topic := fmt.Sprintf("ks-nexmark-%s-%d", q.name, stamp)
			argv := testkit.KStreamsPeerCommand(peer, "1g", q.class, "--bootstrap", brokers,
				"--app-id", fmt.Sprintf("ks-nexmark-%s-%d", q.name, stamp), "--in", eventsTopic, "--out", topic,
				"--state-dir", filepath.Join(dir, "state"))
			// No stall limit: a loaded machine can hold Kafka Streams' windowed
			// queries for minutes between rows.
			k, err := runOne(ctx, []string{brokers}, argv, dir, topic, want, q.table, timeout, timeout)
			if err != nil {
				bar.Printf(os.Stderr, "kstreams %s: %v\n", q.name, err)
				failed, k = true, result{rows: -1, err: err.Error()}
			}
			r.kstreams = &k
			bar.Printf(os.Stderr, "%s kstreams: %d rows, match %v %s, %.1f s, %.1f CPU s\n", q.name, k.rows, k.match, k.diff, k.wall, k.cpu)
		}
		rep.rows = append(rep.rows, r)
		bar.Add(1)
	}
	bar.Finish()
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := rep.write(out); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("a run failed (its logs are in %s)", work)
	}
	return nil
}

// repoRoot is the repository's top directory (the parent of bench/).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "bench", "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no bench/go.mod above %s", dir)
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
