package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// The exactly-once benchmark (-eos, make bench-eos): what exactly-once costs
// gofka and Kafka Streams on one real broker in one run, at each commit
// interval of -eos-intervals. Every measurement is measure (throughput) or
// measureLatency (latency.go) with a setting:
//
//	throughput: N clicks preloaded ─▶ start ─▶ complete when a read_committed
//	  consumer sees the whole output and the group has committed every input offset
//	latency:    paced input ─▶ per-click (visible to read_committed − produced)
//
// Rows (eosPlan): gofka at-least-once and exactly-once, Kafka Streams
// exactly_once_v2 and at-least-once at each interval; gofka exactly-once
// committing only at checkpoints (--commit-interval 1h with each of
// -eos-checkpoints); gofka at-least-once and exactly-once with more input
// partitions (one transactional producer per task). The report (eosreport.go)
// gives the ratios the issue sets targets for.

// eosConfig is the exactly-once benchmark's part of the configuration.
type eosConfig struct {
	on           bool
	intervals    []time.Duration // commit intervals of the main rows
	checkpoints  []time.Duration // checkpoint intervals of the commit-at-checkpoint rows
	partitions   []int32         // the first: every row's; the others: extra gofka rows at partitionsAt
	partitionsAt time.Duration
	memory       map[int32]string // gofka's --memory at a partition count; none: its default
	rate         float64          // paced clicks/s of the latency rows
	warmup       time.Duration
	duration     time.Duration
	latency      bool
	kstreams     bool   // the Kafka Streams rows (need java and mvn)
	raw          string // JSON of every measurement; empty: none
	// profiles are the gofka settings profiled with -profile-dir: eos (exactly-once
	// at -eos-partitions-at, the report's), alos (at-least-once, the same
	// interval), ckpt (commit at checkpoints every first -eos-checkpoints).
	profiles []string
	// baseline is another build of examples/clickcount (e.g. of main): each
	// gofka row of the interval and checkpoint groups gets a twin running it,
	// measured in the same run (before/after of a change).
	baseline string
}

// eosFlags holds the list flags until they are parsed.
type eosFlags struct {
	intervals, checkpoints, partitions, profiles *string
	set                                          map[string]bool
}

func addEOSFlags(e *eosConfig) *eosFlags {
	f := &eosFlags{
		intervals:   flag.String("eos-intervals", "100ms,1s,10s", "-eos: commit intervals, comma-separated"),
		checkpoints: flag.String("eos-checkpoints", "1s,10s", "-eos: checkpoint intervals of the gofka rows that commit only at checkpoints (--commit-interval 1h); empty: none"),
		profiles:    flag.String("eos-profiles", "eos", "-eos: with -profile-dir, the gofka settings to profile in extra, unmeasured runs, comma-separated: eos, alos (at -eos-partitions-at), ckpt (commit at the first -eos-checkpoints); each writes gofka-<name>.cpu.pprof and gofka-<name>-profile.txt, compare them with go tool pprof -diff_base"),
		partitions:  flag.String("eos-partitions", "8,64", "-eos: input partitions of every row, then of extra gofka rows at -eos-partitions-at (the cost of one transactional producer per task); p:mem gives gofka --memory mem at p partitions, e.g. 64:1GiB"),
	}
	flag.BoolVar(&e.on, "eos", false, "run the exactly-once benchmark (eos.go) instead of the contender comparison")
	flag.DurationVar(&e.partitionsAt, "eos-partitions-at", time.Second, "-eos: the commit interval of the extra partition rows")
	flag.Float64Var(&e.rate, "rate", 5000, "-eos: clicks/s of the latency measurement, below every contender's throughput")
	flag.DurationVar(&e.warmup, "warmup", 5*time.Second, "-eos: paced input before the measured part, once output flows")
	flag.DurationVar(&e.duration, "latency-duration", 20*time.Second, "-eos: measured paced input")
	flag.BoolVar(&e.latency, "latency", true, "-eos: measure latency too")
	flag.BoolVar(&e.kstreams, "eos-kstreams", true, "-eos: the Kafka Streams rows (need java and mvn)")
	flag.StringVar(&e.baseline, "eos-baseline", "", "-eos: path of another clickcount binary (go build -o X ./examples/clickcount in another checkout): every gofka interval and checkpoint row gets a twin row running it, for a before/after in one run")
	flag.StringVar(&e.raw, "raw", "bench/results/eos-runs.json", "-eos: where to write every measurement as JSON, relative to the repository root unless absolute (empty: nowhere)")
	return f
}

// parse reads the list flags, and in -eos mode points -out at eos.md unless given.
func (f *eosFlags) parse(cfg *config) error {
	f.set = map[string]bool{}
	flag.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	e := &cfg.eos
	var err error
	if e.intervals, err = durations(*f.intervals); err != nil {
		return fmt.Errorf("-eos-intervals: %w", err)
	}
	if e.checkpoints, err = durations(*f.checkpoints); err != nil {
		return fmt.Errorf("-eos-checkpoints: %w", err)
	}
	for _, p := range strings.Split(*f.profiles, ",") {
		switch p = strings.TrimSpace(p); p {
		case "":
		case "eos", "alos", "ckpt":
			e.profiles = append(e.profiles, p)
		default:
			return fmt.Errorf("-eos-profiles: %q is none of eos, alos, ckpt", p)
		}
	}
	e.memory = map[int32]string{}
	for _, p := range strings.Split(*f.partitions, ",") {
		p, mem, _ := strings.Cut(strings.TrimSpace(p), ":")
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return fmt.Errorf("-eos-partitions: %q is not a positive number", p)
		}
		e.partitions = append(e.partitions, int32(n))
		if mem != "" {
			e.memory[int32(n)] = mem
		}
	}
	if e.on && len(e.intervals) == 0 {
		return fmt.Errorf("-eos-intervals: give at least one")
	}
	if e.on && !f.set["out"] {
		cfg.out = "bench/results/eos.md"
	}
	return nil
}

func durations(list string) ([]time.Duration, error) {
	var out []time.Duration
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// eosRow is one row of the exactly-once report.
type eosRow struct {
	Key     string        `json:"key"`
	Name    string        `json:"name"`
	Group   string        `json:"group"` // interval, checkpoint or partitions
	EOS     bool          `json:"eos"`
	Commit  time.Duration `json:"commit_ns"`
	Ckpt    time.Duration `json:"checkpoint_ns,omitempty"`
	Parts   int32         `json:"partitions"`
	latency bool          // measured for latency too
	c       contender
	s       setting

	Errors  []string  `json:"errors,omitempty"` // measurements that failed (reported, the run goes on)
	Results []result  `json:"-"`
	Rates   []float64 `json:"rates"` // records/s per run, start to completion
	// Sustained is records/s per run while the output went from 10% to 90%.
	Sustained []float64      `json:"sustained"`
	Latency   *latencyResult `json:"latency,omitempty"`
}

// failed records a failed measurement of the row; the run goes on unless it
// was interrupted (failed then reports true).
func (r *eosRow) failed(ctx context.Context, err error, logf func(string, ...any)) bool {
	if ctx.Err() != nil {
		return true
	}
	first, _, _ := strings.Cut(err.Error(), "\n")
	r.Errors = append(r.Errors, first)
	logf("FAILED   %s: %v\n", r.Name, err)
	return false
}

// eosPlan lists the rows, in report order.
func eosPlan(e eosConfig, kstreams bool) []*eosRow {
	gofka, _ := lookupContender("gofka")
	ks, _ := lookupContender("kstreams")
	base := e.partitions[0]
	row := func(group string, c contender, eos bool, commit, ckpt time.Duration, parts int32, latency bool) *eosRow {
		g := map[bool]string{false: "at-least-once", true: "exactly-once"}[eos]
		label := map[bool]string{false: "alos", true: "eos"}[eos] + "-" + commit.String()
		name := fmt.Sprintf("%s %s, commit %s", c.name, g, commit)
		if c.java {
			name = fmt.Sprintf("Kafka Streams %s, commit %s", map[bool]string{false: "at_least_once", true: "exactly_once_v2"}[eos], commit)
		}
		if ckpt > 0 {
			label = fmt.Sprintf("eos-ckpt-%s", ckpt)
			name = fmt.Sprintf("gofka exactly-once, commit at checkpoints every %s", ckpt)
		}
		if parts != base {
			label += fmt.Sprintf("-p%d", parts)
			name += fmt.Sprintf(", %d partitions", parts)
		}
		s := setting{label: label, eos: eos, commit: commit, checkpoint: ckpt, partitions: parts, committed: true, memory: e.memory[parts]}
		return &eosRow{Key: c.id + "-" + label, Name: name, Group: group, EOS: eos, Commit: commit, Ckpt: ckpt, Parts: parts,
			latency: latency && e.latency, c: c, s: s}
	}
	// twin adds r's baseline twin after it when there is a baseline binary.
	twin := func(r *eosRow) []*eosRow {
		if e.baseline == "" {
			return []*eosRow{r}
		}
		b := *r
		b.c = baselineContender(gofka, e.baseline)
		b.Key, b.Name = b.c.id+strings.TrimPrefix(r.Key, gofka.id), r.Name+" (baseline)"
		return []*eosRow{r, &b}
	}
	var rows []*eosRow
	for _, iv := range e.intervals {
		rows = append(rows, twin(row("interval", gofka, false, iv, 0, base, true))...)
		rows = append(rows, twin(row("interval", gofka, true, iv, 0, base, true))...)
		if kstreams {
			rows = append(rows, row("interval", ks, true, iv, 0, base, true), row("interval", ks, false, iv, 0, base, false))
		}
	}
	for _, ck := range e.checkpoints {
		rows = append(rows, twin(row("checkpoint", gofka, true, time.Hour, ck, base, true))...)
	}
	for _, p := range e.partitions[1:] {
		rows = append(rows, row("partitions", gofka, false, e.partitionsAt, 0, p, false), row("partitions", gofka, true, e.partitionsAt, 0, p, false))
	}
	return rows
}

// baselineContender is gofka running the binary bin instead of the one built
// from this checkout.
func baselineContender(gofka contender, bin string) contender {
	c := gofka
	c.id, c.name = "gofka-baseline", gofka.name+" (baseline)"
	c.args = func(m *measurement) []string { return gofkaArgs(m, bin) }
	return c
}

// runEOS runs the exactly-once benchmark and returns its Markdown report.
func runEOS(ctx context.Context, cfg config) (string, eosRows, error) {
	if cfg.n <= 0 || cfg.runs <= 0 {
		return "", nil, fmt.Errorf("-n and -runs must be positive")
	}
	root, err := testkit.RepoRoot()
	if err != nil {
		return "", nil, err
	}
	cfg.partitions = cfg.eos.partitions[0]
	loadBefore := testkit.LoadAverage()
	gofka, _ := lookupContender("gofka")
	chosen := []contender{gofka}
	if cfg.eos.kstreams {
		ks, _ := lookupContender("kstreams")
		chosen = append(chosen, ks) // build fails with a clear error without java and mvn
	}
	env, err := setUp(ctx, &cfg, root, chosen)
	if err != nil {
		return "", nil, err
	}
	defer env.close()
	if err := warmBroker(ctx, env.cl); err != nil {
		return "", nil, err
	}
	rows := eosRows(eosPlan(cfg.eos, cfg.eos.kstreams))
	w := newWorkload(cfg.n)
	cfg.logTo("broker: %s\n%d clicks (%d real), %d runs per row\n", env.broker, cfg.n, w.real, cfg.runs)
	token := randomToken()
	for r := 1; r <= cfg.runs; r++ {
		for i := range rows {
			row := rows[i]
			if r%2 == 0 {
				row = rows[len(rows)-1-i]
			}
			res, err := measure(ctx, &cfg, env.cl, w, row.c, row.s, env.bins, r, token, env.scratch)
			if err != nil {
				if row.failed(ctx, fmt.Errorf("run %d: %w", r, err), cfg.logTo) {
					return "", nil, ctx.Err()
				}
				continue
			}
			row.Results = append(row.Results, res)
			row.Rates = append(row.Rates, float64(cfg.n)/res.seconds)
			if res.sustained > 0 {
				row.Sustained = append(row.Sustained, res.sustained)
			}
			cfg.logTo("run %d  %-58s %7.2f s %9.0f rec/s  sustained %9.0f rec/s  cpu %6.2f s\n", r, row.Name, res.seconds, float64(cfg.n)/res.seconds, res.sustained, res.cpu)
		}
	}
	// Enough clicks for a minute of probes, the warm-up and the measured phase.
	lw := newWorkload(int(cfg.eos.rate*(cfg.eos.warmup+cfg.eos.duration).Seconds()) + 600)
	for _, row := range rows {
		if !row.latency {
			continue
		}
		lat, err := measureLatency(ctx, &cfg, env.cl, lw, row.c, row.s, env.bins, token, env.scratch)
		if err != nil {
			if row.failed(ctx, fmt.Errorf("latency: %w", err), cfg.logTo) {
				return "", nil, ctx.Err()
			}
			continue
		}
		row.Latency = &lat
		cfg.logTo("latency  %-58s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d clicks, %.0f/s)\n", row.Name, lat.P50, lat.P99, lat.Max, lat.Measured, lat.Rate)
	}
	var profile string
	if cfg.profileDir != "" {
		if profile, err = profileEOS(ctx, &cfg, env, w, token); err != nil {
			return "", nil, err
		}
	}
	md := renderEOS(&cfg, env, w, rows, loadBefore, profile)
	if cfg.out != "" {
		if err := testkit.WriteFile(root, cfg.out, []byte(md)); err != nil {
			return "", nil, err
		}
	}
	if cfg.eos.raw != "" {
		raw, _ := json.MarshalIndent(rows, "", "  ")
		if err := testkit.WriteFile(root, cfg.eos.raw, append(raw, '\n')); err != nil {
			return "", nil, err
		}
	}
	return md, rows, nil
}

// profileEOS profiles gofka in each setting of -eos-profiles and returns the
// exactly-once one's text for the report (empty when it was not profiled).
func profileEOS(ctx context.Context, cfg *config, env *benchEnv, w *workload, token string) (string, error) {
	at := cfg.eos.partitionsAt
	var report string
	for _, p := range cfg.eos.profiles {
		s := setting{label: "profile-" + p, eos: p != "alos", commit: at, committed: true}
		if p == "ckpt" {
			if len(cfg.eos.checkpoints) == 0 {
				return "", fmt.Errorf("-eos-profiles ckpt: -eos-checkpoints is empty")
			}
			s.commit, s.checkpoint = time.Hour, cfg.eos.checkpoints[0]
		}
		text, err := profileGofka(ctx, cfg, env.cl, w, env.bins, token, env.scratch, s, "gofka-"+p)
		if err != nil {
			return "", err
		}
		if p == "eos" {
			report = text
		}
	}
	return report, nil
}

// warmBroker makes a broker that lives through the run create its offsets and
// transaction state topics before anything is measured, so that the first
// measurement does not pay for them: a transactional producer commits a record
// and an offset. A fresh embedded broker per measurement needs none.
func warmBroker(ctx context.Context, cl cluster) error {
	if _, ok := cl.(*embedded); ok {
		return nil
	}
	addr, release, err := cl.acquire(ctx)
	if err != nil {
		return err
	}
	topic, group := "bench-warm-"+randomToken(), "bench-warm-group"
	defer release([]string{topic}, []string{group})
	kcl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("bench-warm"), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer kcl.Close()
	adm := kadm.NewClient(kcl)
	if err := testkit.ResetTopics(ctx, adm, 1, topic); err != nil {
		return err
	}
	if err := kcl.BeginTransaction(); err != nil {
		return err
	}
	if err := kcl.ProduceSync(ctx, &kgo.Record{Value: []byte("warm")}).FirstErr(); err != nil {
		return fmt.Errorf("warm the broker: %w", err)
	}
	if err := kcl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("warm the broker: %w", err)
	}
	var offsets kadm.Offsets
	offsets.Add(kadm.Offset{Topic: topic, Partition: 0, At: 1, LeaderEpoch: -1})
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("warm the broker: %w", err)
	}
	return nil
}
