package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// The windowed benchmark (-windowed, make bench-windowed): examples/pageviews
// beside the same topology in Kafka Streams (bench/peers/kstreams,
// WindowedCount) on one broker, issue 14's end-to-end target. One measurement:
//
//	fresh topics ─▶ load N page views (windowed_workload.go: 10,000 pages, event
//	  times 1 ms apart as record timestamps, 1% out of order within the grace,
//	  one view per partition an hour later that closes every window) ─▶ start the
//	  contender ─▶ complete when the final-count topic holds every closed
//	  window's final count and the group has committed every input offset
//	  (timed from start) ─▶ SIGTERM ─▶ CPU seconds, peak RSS ─▶ read both
//	  outputs back and check every update and final count against the brute
//	  force ─▶ delete the topics
//
// Both contenders run at-least-once with the same commit interval and forward
// every count update (Kafka Streams with --cache-bytes 0); runs alternate their
// order. The report is windowed_report.go's.

// windowedContenders are the contenders of -windowed.
var windowedContenders = []contender{
	{
		id:   "gofka-windowed",
		name: "gofka pageviews",
		args: func(m *measurement) []string { return gofkaArgs(m, m.bins.pageviews) },
		// examples/pageviews' topology names its topics.
		fixedIn: "page-views", fixedOut: "page-views-per-minute",
		fixedFinal: "page-views-per-minute-final", fixedLate: "late-page-views",
		windowed: true,
		note:     "the binary generated from examples/pageviews: defaults (RocksDB window store behind gofka's write-back cache, --memory 256MiB, at-least-once), --commit-interval as above; every update to page-views-per-minute, finals through Suppress(UntilWindowCloses()) to page-views-per-minute-final (a RocksDB suppression buffer), late views to late-page-views",
	},
	{
		id:   "kstreams-windowed",
		name: "Kafka Streams WindowedCount (no cache)",
		args: func(m *measurement) []string {
			ms := func(v int64) string { return strconv.FormatInt(v, 10) }
			return kstreamsArgs(m, "gofka.bench.WindowedCount", 0, "--out-final", m.final,
				"--size-ms", ms(viewWindow), "--advance-ms", ms(viewWindow), "--grace-ms", ms(viewGrace))
		},
		windowed: true,
		java:     true,
		note:     "bench/peers/kstreams WindowedCount, Kafka Streams 3.9.1: groupByKey → windowedBy(TimeWindows.ofSizeAndGrace(1 min, 10 s)) → count (RocksDB window store) → every update to --out, suppress(untilWindowCloses(unbounded)) → --out-final; statestore.cache.max.bytes=0 so every update is forwarded as gofka does, 1 stream thread, at_least_once, commit.interval.ms as gofka's",
	},
}

// runWindowed runs the windowed benchmark and returns its report.
func runWindowed(ctx context.Context, cfg config) (*report, error) {
	if cfg.n <= 0 || cfg.runs <= 0 || cfg.partitions <= 0 {
		return nil, fmt.Errorf("-n, -runs and -partitions must be positive")
	}
	root, err := testkit.RepoRoot()
	if err != nil {
		return nil, err
	}
	loadBefore := testkit.LoadAverage()
	rep := &report{}
	if err := rep.choose(&cfg, windowedContenders); err != nil {
		return nil, err
	}
	env, err := setUp(ctx, &cfg, root, rep.chosen)
	if err != nil {
		return nil, err
	}
	defer env.close()
	rep.broker, rep.brokerLabel, rep.javaVersion = env.broker, env.brokerLabel, env.javaVersion
	w := newViewWorkload(cfg.n, cfg.partitions)
	cfg.logTo("broker: %s\n%d views (%d out of order, %d late), %d windows (%d closed), %d partitions, %d runs per contender\n",
		rep.broker, w.views(), w.outOfOrder, w.late, len(w.counts), len(w.closed), cfg.partitions, cfg.runs)
	token := randomToken()
	for r := 1; r <= cfg.runs; r++ {
		for _, c := range runOrder(rep.chosen, r) {
			res, err := measureWindowed(ctx, &cfg, env, w, c, r, token)
			if err != nil {
				return nil, fmt.Errorf("%s, run %d: %w", c.name, r, err)
			}
			cfg.logTo("run %d  %-40s %7.2f s %10.0f views/s  cpu %6.2f s  rss %6.1f MB  %d output records\n",
				r, c.name, res.seconds, float64(w.views())/res.seconds, res.cpu, res.rssMB, res.records)
			rep.results = append(rep.results, res)
		}
	}
	rep.markdown = rep.renderWindowed(&cfg, w, loadBefore)
	if cfg.out != "" {
		if err := testkit.WriteFile(root, cfg.out, []byte(rep.markdown)); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// measureWindowed runs windowed contender c once on fresh topics loaded with w,
// and checks its output.
func measureWindowed(ctx context.Context, cfg *config, env *benchEnv, w *viewWorkload, c contender, run int, token string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	m, adm, release, err := prepare(ctx, cfg, env.cl, c, setting{}, env.bins, run, token, env.scratch)
	if err != nil {
		return result{}, err
	}
	defer release()
	if err := w.load(ctx, m.addr, m.in); err != nil {
		return result{}, err
	}
	complete := func() bool {
		return outputEnds(ctx, adm, m.final) >= int64(len(w.closed)) &&
			inputCommitted(ctx, adm, m.appID, m.in, int64(w.views()))
	}
	res, err := m.runUntil(ctx, complete)
	if err != nil {
		return res, err
	}
	if !cfg.verify {
		return res, nil
	}
	vctx, vcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer vcancel()
	if res.records, err = w.verify(vctx, m.addr, m.out, m.final); err != nil {
		return res, fmt.Errorf("%w\n%s", err, tail(m.logPath, 30))
	}
	if c.fixedLate != "" { // gofka writes the late views to a topic of their own
		if late := outputEnds(vctx, adm, m.late); late != int64(w.late) {
			return res, fmt.Errorf("%s holds %d late views, want %d", m.late, late, w.late)
		}
	}
	return res, nil
}
