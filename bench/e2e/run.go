package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofka/streams/internal/termbar"
	"github.com/gofka/streams/internal/testkit"
)

// report is what a benchmark run produced.
type report struct {
	results     []result
	chosen      []contender
	markdown    string
	notes       []string
	broker      string // the broker, described
	brokerLabel string // its short name
	javaVersion string
}

// run builds the contenders, starts the broker, measures every contender cfg.runs
// times in alternating order, profiles gofka once more, and writes the report.
func run(ctx context.Context, cfg config) (*report, error) {
	if cfg.n <= 0 || cfg.runs <= 0 || cfg.partitions <= 0 {
		return nil, fmt.Errorf("-n, -runs and -partitions must be positive")
	}
	root, err := testkit.RepoRoot()
	if err != nil {
		return nil, err
	}
	rep := &report{}
	if err := rep.choose(&cfg, contenders); err != nil {
		return nil, err
	}
	env, err := setUp(ctx, &cfg, root, rep.chosen)
	if err != nil {
		return nil, err
	}
	defer env.close()
	cl, bins, scratch := env.cl, env.bins, env.scratch
	rep.broker, rep.brokerLabel, rep.javaVersion = env.broker, env.brokerLabel, env.javaVersion
	w := newWorkload(cfg.n)
	cfg.logTo("broker: %s\n%d clicks (%d real, %d users), %d partitions, %d runs per contender\n",
		rep.broker, cfg.n, w.real, len(w.expected), cfg.partitions, cfg.runs)

	token := randomToken()
	// On a terminal, a bar over the measurements; the log lines print above it.
	bar := termbar.New(os.Stderr, int64(cfg.runs*len(rep.chosen)), "e2e", "runs")
	defer bar.Finish()
	logTo := cfg.logTo
	cfg.logTo = func(format string, args ...any) { bar.Above(func() { logTo(format, args...) }) }
	for r := 1; r <= cfg.runs; r++ {
		for _, c := range runOrder(rep.chosen, r) {
			bar.Describe(fmt.Sprintf("e2e: run %d, %s", r, c.name))
			res, err := measure(ctx, &cfg, cl, w, c, setting{}, bins, r, token, scratch)
			if err != nil {
				return nil, fmt.Errorf("%s, run %d: %w", c.name, r, err)
			}
			bar.Add(1)
			cfg.logTo("run %d  %-30s %7.2f s %10.0f rec/s  cpu %6.2f s  rss %6.1f MB  %d output records\n",
				r, c.name, res.seconds, float64(cfg.n)/res.seconds, res.cpu, res.rssMB, res.records)
			rep.results = append(rep.results, res)
		}
	}

	var profileText string
	if cfg.profileDir != "" && rep.has("gofka") {
		if profileText, err = profileGofka(ctx, &cfg, cl, w, bins, token, scratch, setting{}, "gofka"); err != nil {
			return nil, err
		}
	}
	rep.markdown = rep.render(&cfg, w, profileText)
	if cfg.out != "" {
		if err := testkit.WriteFile(root, cfg.out, []byte(rep.markdown)); err != nil {
			return nil, err
		}
	}
	if cfg.chart != "" {
		png, err := rep.chart(&cfg)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		if err := testkit.WriteFile(root, cfg.chart, png); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// choose looks up -contenders in list; the Kafka Streams peers are left out
// (with a note) when java or mvn is missing and the contenders are the default
// ones.
func (rep *report) choose(cfg *config, list []contender) error {
	defaulted := strings.Join(cfg.contenders, ",") == strings.Join(idsOf(list), ",")
	_, javaErr := exec.LookPath("java")
	_, mvnErr := exec.LookPath("mvn")
	for _, id := range cfg.contenders {
		c, err := lookupIn(list, strings.TrimSpace(id))
		if strings.TrimSpace(id) == baseContender.id {
			if cfg.gofkaBase == "" {
				return fmt.Errorf("contender %s needs -gofka-base", baseContender.id)
			}
			c, err = baseContender, nil
		}
		if err != nil {
			return err
		}
		if c.java && (javaErr != nil || mvnErr != nil) {
			if !defaulted {
				return fmt.Errorf("contender %s needs java and mvn on the PATH", c.id)
			}
			note := fmt.Sprintf("%s left out: java and mvn are not both on the PATH", c.name)
			cfg.logTo("NOTE: %s\n", note)
			rep.notes = append(rep.notes, note)
			continue
		}
		rep.chosen = append(rep.chosen, c)
	}
	return nil
}

// benchEnv is what a benchmark run sets up: scratch space, the binaries, the broker.
type benchEnv struct {
	scratch                          string
	bins                             *binaries
	cl                               cluster
	broker, brokerLabel, javaVersion string
	close                            func()
}

// setUp makes the scratch directory, builds what chosen needs and starts the
// broker; close undoes it.
func setUp(ctx context.Context, cfg *config, root string, chosen []contender) (*benchEnv, error) {
	scratch, err := os.MkdirTemp("", "gofka-bench-")
	if err != nil {
		return nil, err
	}
	env := &benchEnv{scratch: scratch, close: func() { os.RemoveAll(scratch) }}
	if cfg.keep {
		cfg.logTo("scratch directory (kept): %s\n", scratch)
		env.close = func() {}
	}
	cfg.logTo("building the contenders\n")
	if env.bins, err = build(root, scratch, chosen, cfg.logTo); err != nil {
		env.close()
		return nil, err
	}
	if env.cl, err = pickCluster(ctx, *cfg, root, env.bins, scratch); err != nil {
		env.close()
		return nil, err
	}
	removeScratch := env.close
	env.close = func() {
		env.cl.close()
		removeScratch()
	}
	env.broker, env.brokerLabel = env.cl.describe(), env.cl.label()
	for _, c := range chosen {
		if c.java {
			env.javaVersion = javaVersion()
		}
	}
	return env, nil
}

// profileGofka runs gofka once more, unmeasured, with --cpu-profile and setting
// s, and writes the profile (<name>.cpu.pprof) and the head of go tool pprof
// -top (<name>-profile.txt) beside the report.
func profileGofka(ctx context.Context, cfg *config, cl cluster, w *workload, bins *binaries, token, scratch string, s setting, name string) (string, error) {
	root, err := testkit.RepoRoot()
	if err != nil {
		return "", err
	}
	dir := cfg.profileDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	prof := filepath.Join(dir, name+".cpu.pprof")
	s.profile = prof
	c, _ := lookupContender("gofka")
	cfg.logTo("profiling gofka (%s) in one more, unmeasured run\n", name)
	res, err := measure(ctx, cfg, cl, w, c, s, bins, cfg.runs+1, token, scratch)
	if err != nil {
		return "", fmt.Errorf("gofka profiling run: %w", err)
	}
	cfg.logTo("profiled %-52s %7.2f s %9.0f rec/s  cpu %6.2f s\n", name, res.seconds, float64(cfg.n)/res.seconds, res.cpu)
	pprof := func(args ...string) (string, error) {
		args = append(append([]string{"tool", "pprof"}, args...), bins.gofka, prof)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	all, err := pprof("-top", "-cum", "-nodecount=100000")
	if err != nil {
		return "", err
	}
	cum, err := pprof("-top", "-cum", "-nodecount=40")
	if err != nil {
		return "", err
	}
	flat, err := pprof("-top", "-nodecount=40")
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("gofka click-count (%s), %d clicks, %s; %s\n\n$ go tool pprof -top -cum -nodecount=40 <gofka binary> %s\n\n%s\n$ go tool pprof -top -nodecount=40 <gofka binary> %s\n\n%s",
		name, cfg.n, time.Now().UTC().Format("2006-01-02"), cfg.command, filepath.Base(prof), cum, filepath.Base(prof), flat)
	if err := os.WriteFile(filepath.Join(dir, name+"-profile.txt"), []byte(text), 0o644); err != nil {
		return "", err
	}
	out := sharesTable(sharesFrom(all)) + "\n```\n" + cum
	return string(out), nil
}

// runOrder is the order of the contenders in run r (1-based): as chosen in
// odd runs, reversed in even ones.
func runOrder(chosen []contender, r int) []contender {
	order := append([]contender(nil), chosen...)
	if r%2 == 0 {
		slices.Reverse(order)
	}
	return order
}

func (rep *report) has(id string) bool {
	for _, c := range rep.chosen {
		if c.id == id {
			return true
		}
	}
	return false
}

func randomToken() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}
