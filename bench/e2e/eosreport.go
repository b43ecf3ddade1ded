package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// The exactly-once benchmark's Markdown report: conditions, throughput and
// latency per row, and the ratios the issue sets targets for.

// rate is the row's median records/s, start to completion; steady its
// median sustained records/s (10% to 90% of the output).
func (r *eosRow) rate() float64   { return median(r.Rates) }
func (r *eosRow) steady() float64 { return median(r.Sustained) }

func (r *eosRow) seconds() float64 {
	var s []float64
	for _, res := range r.Results {
		s = append(s, res.seconds)
	}
	return median(s)
}

func (r *eosRow) cpu() float64 {
	var s []float64
	for _, res := range r.Results {
		s = append(s, res.cpu)
	}
	return median(s)
}

// eosRows finds rows by contender, guarantee, commit interval, checkpoint
// interval and partitions.
type eosRows []*eosRow

func (rs eosRows) find(id string, eos bool, commit, ckpt time.Duration, parts int32) *eosRow {
	for _, r := range rs {
		if r.c.id == id && r.EOS == eos && r.Commit == commit && r.Ckpt == ckpt && r.Parts == parts {
			return r
		}
	}
	return nil
}

// target is one line of the targets table.
type target struct {
	what, measured, verdict string
}

// ratioTarget compares a/b with a goal (0: none).
func ratioTarget(what string, a, b *eosRow, goal float64) *target {
	if a == nil || b == nil || len(a.Rates) == 0 || len(b.Rates) == 0 {
		return nil
	}
	x := a.rate() / b.rate()
	t := &target{what: what, measured: fmt.Sprintf("completion %.2f× (%.0f vs %.0f records/s)", x, a.rate(), b.rate()), verdict: "–"}
	if goal > 0 {
		t.verdict = "completion: " + verdict(x, goal)
	}
	if len(a.Sustained) > 0 && len(b.Sustained) > 0 {
		y := a.steady() / b.steady()
		t.measured += fmt.Sprintf("; sustained %.2f× (%.0f vs %.0f)", y, a.steady(), b.steady())
		if goal > 0 {
			t.verdict += "; sustained: " + verdict(y, goal)
		}
	}
	return t
}

// p99Target: a's p99 below b's.
func p99Target(what string, a, b *eosRow) *target {
	if a == nil || b == nil || a.Latency == nil || b.Latency == nil {
		return nil
	}
	x, y := a.Latency.P99, b.Latency.P99
	t := &target{what: what, measured: fmt.Sprintf("%.0f ms vs %.0f ms", x, y), verdict: "met"}
	if x >= y {
		t.verdict = fmt.Sprintf("**missed** by %.0f ms", x-y)
	}
	return t
}

// eosTargets lists the ratios of the targets, and the measurements
// without one.
func eosTargets(cfg *config, rows eosRows) []target {
	var ts []*target
	base := cfg.eos.partitions[0]
	for _, iv := range cfg.eos.intervals {
		goal := 0.0
		if iv == time.Second {
			goal = 0.8
		}
		ts = append(ts, ratioTarget(fmt.Sprintf("gofka exactly-once / at-least-once, commit %s", iv),
			rows.find("gofka", true, iv, 0, base), rows.find("gofka", false, iv, 0, base), goal))
	}
	for _, iv := range cfg.eos.intervals {
		ts = append(ts, ratioTarget(fmt.Sprintf("gofka exactly-once / Kafka Streams exactly_once_v2, commit %s (≥ 3×)", iv),
			rows.find("gofka", true, iv, 0, base), rows.find("kstreams", true, iv, 0, base), 3))
	}
	for _, iv := range cfg.eos.intervals {
		ts = append(ts, p99Target(fmt.Sprintf("p99 latency, gofka exactly-once below Kafka Streams exactly_once_v2, commit %s", iv),
			rows.find("gofka", true, iv, 0, base), rows.find("kstreams", true, iv, 0, base)))
	}
	for _, ck := range cfg.eos.checkpoints {
		at := rows.find("gofka", true, time.Hour, ck, base)
		per := rows.find("gofka", true, ck, 0, base)
		ts = append(ts, ratioTarget(fmt.Sprintf("(no target) gofka exactly-once: commit at checkpoints every %s / commit every %s", ck, ck), at, per, 0))
		if t := p99Target(fmt.Sprintf("(no target) p99: commit at checkpoints every %s below commit every %s", ck, ck), at, per); t != nil {
			t.verdict = "–"
			ts = append(ts, t)
		}
	}
	for _, p := range cfg.eos.partitions {
		ts = append(ts, ratioTarget(fmt.Sprintf("(no target) gofka exactly-once / at-least-once, commit %s, %d input partitions (%d transactional producers)", cfg.eos.partitionsAt, p, 2*p),
			rows.find("gofka", true, cfg.eos.partitionsAt, 0, p), rows.find("gofka", false, cfg.eos.partitionsAt, 0, p), 0))
	}
	var out []target
	for _, t := range ts {
		if t != nil {
			out = append(out, *t)
		}
	}
	return out
}

// renderEOS writes the report.
func renderEOS(cfg *config, env *benchEnv, w *workload, rows eosRows, loadBefore, profile string) string {
	var b strings.Builder
	e := cfg.eos
	fmt.Fprintf(&b, "## Exactly-once: gofka and Kafka Streams, at-least-once and exactly-once\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s; load average (1, 5, 15 min) %s before the run, %s after (the machine is shared)\n", testkit.Machine(), loadBefore, testkit.LoadAverage())
	fmt.Fprintf(&b, "- broker: %s\n", env.broker)
	fmt.Fprintf(&b, "- throughput: %s clicks (%s real) preloaded into %d input partitions; time from starting the contender until a read_committed consumer sees the whole output **and** the group has committed every input offset (records/s = clicks ÷ that time), and, sustained, the input rate while the output went from 10%% to 90%% of the real clicks (no start-up, no final commit waits; – when that took less than ten commit intervals, since read_committed output arrives in one burst per commit); every output then read back read_committed and checked count by count. %d run(s) per row, the order reversed every other run; medians\n",
		thousands(cfg.n), thousands(w.real), e.partitions[0], cfg.runs)
	if e.latency {
		fmt.Fprintf(&b, "- latency: %.0f clicks/s paced, %s warm-up then %s measured; per real click, (visible to a read_committed consumer) − (produce time, the input record's Kafka timestamp); nearest-rank percentiles\n", e.rate, e.warmup, e.duration)
	}
	fmt.Fprintf(&b, "- command: `%s`\n\n", cfg.command)

	b.WriteString("| row | records/s | sustained records/s | seconds | CPU seconds | p50 ms | p99 ms | max ms | records/s in each run |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		lat := "| – | – | –"
		if r.Latency != nil {
			lat = fmt.Sprintf("| %.0f | %.0f | %.0f", r.Latency.P50, r.Latency.P99, r.Latency.Max)
		}
		var runs []string
		for _, x := range r.Rates {
			runs = append(runs, fmt.Sprintf("%.0f", x))
		}
		for _, e := range r.Errors {
			runs = append(runs, "**failed**: "+strings.ReplaceAll(e, "|", "/"))
		}
		steady := "–"
		if r.steady() > 0 {
			steady = fmt.Sprintf("%.0f", r.steady())
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f | %.2f %s | %s |\n", r.Name, r.rate(), steady, r.seconds(), r.cpu(), lat, strings.Join(runs, ", "))
	}
	b.WriteString("\n### Targets (issue 13; reported, not asserted)\n\n| ratio | measured | verdict |\n|---|---:|---|\n")
	for _, t := range eosTargets(cfg, rows) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.what, t.measured, t.verdict)
	}
	b.WriteString(eosNotes(cfg, env, rows))
	if profile != "" {
		fmt.Fprintf(&b, "\n### Where gofka's time goes under exactly-once\n\nCPU profile of one extra, unmeasured gofka exactly-once run at commit %s (`bench/results/gofka-eos.cpu.pprof`; `bench/results/gofka-eos-profile.txt` has 40 lines of `go tool pprof -top -cum` and of `-top`). The shares overlap.\n\n%s```\n", e.partitionsAt, profile)
	}
	return b.String()
}

// eosNotes says how each row runs and how latency is mapped.
func eosNotes(cfg *config, env *benchEnv, rows eosRows) string {
	var b strings.Builder
	b.WriteString("\n### How the rows run\n\n")
	b.WriteString("- **gofka**: the binary generated from examples/clickcount (as in e2e.md), `--guarantee at-least-once` or `exactly-once`, `--commit-interval` as named; its default `--checkpoint-interval 10s` (file snapshots under the state directory) in every row but the checkpoint rows. Under exactly-once each task has its own transactional producer (`<app-id>-<task>`; click-count has two sub-topologies, so 2 × partitions producers) and commits one transaction per commit interval (runtime/engine/eos.go)\n")
	b.WriteString("- **gofka, commit at checkpoints**: `--commit-interval 1h --checkpoint-interval <c>`: no interval commit happens within the run, and a task aligned for checkpoint n commits its transaction before its RocksDB checkpoint (checkpoints.advance begins the aligned tasks' commits off the loop, beginAlignedCommits, and takes each task's RocksDB checkpoint when its commit is settled, before its next record; runtime/engine/checkpoint.go, txncommit.go), so output becomes visible exactly at checkpoints, Flink's two-phase-commit cadence. The throughput rows finish only once the group has committed every input offset, which here only a checkpoint does\n")
	for p, mem := range cfg.eos.memory {
		fmt.Fprintf(&b, "- **gofka at %d partitions** runs with `--memory %s` (both guarantees): with the default 256MiB it aborts within seconds on a RocksDB assertion, `memtable.cc:120 MemTable::MemTable: Assertion '!ShouldScheduleFlush()' failed` (each of the %d task instances gets a db_write_buffer_size of its share of the write-buffer budget, state/rocks/memory.go, and this machine's librocksdb is built with assertions)\n", p, mem, p)
	}
	if cfg.eos.kstreams {
		fmt.Fprintf(&b, "- **Kafka Streams**: bench/peers/kstreams, Kafka Streams 3.9.1 defaults (10 MiB record cache, RocksDB, 1 stream thread) with `--guarantee exactly_once_v2` (one producer per thread, KIP-447) or `at_least_once` and `commit.interval.ms` as named; `java -Xmx%s` (%s)\n", cfg.javaHeap, env.javaVersion)
	}
	b.WriteString("- **latency mapping**: gofka stamps its output records with the time it emits them, not with the input's timestamp (Kafka Streams carries the input's), so the output's timestamp cannot name the input. The paced producer instead puts all of a user's clicks in the partition of the user, so each user's clicks are counted in produce order and count n of user u was caused by u's n-th real click; one output covering several clicks (Kafka Streams' cache) gives each of them its latency (bench/e2e/latency.go). Where the output carries a timestamp, it was compared with the mapped input's:")
	for _, r := range rows {
		if r.Latency != nil {
			fmt.Fprintf(&b, " %s %d of %d equal;", r.Name, r.Latency.TSEqual, r.Latency.TSChecked)
		}
	}
	b.WriteString(" (gofka's cannot be: its timestamps are emission times.)\n")
	return b.String()
}
