package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// summary is one contender's medians.
type summary struct {
	c                  contender
	rate, seconds, cpu float64
	rssMB              float64
	rates              []float64 // per run, in run order
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summaries gives each chosen contender's medians, in contender order.
func (rep *report) summaries(n int) []summary {
	var out []summary
	for _, c := range rep.chosen {
		s := summary{c: c}
		var secs, cpus, rss []float64
		for _, r := range rep.results {
			if r.id == c.id {
				secs, cpus, rss = append(secs, r.seconds), append(cpus, r.cpu), append(rss, r.rssMB)
				s.rates = append(s.rates, float64(n)/r.seconds)
			}
		}
		if len(secs) == 0 {
			continue
		}
		s.seconds, s.cpu, s.rssMB = median(secs), median(cpus), median(rss)
		s.rate = float64(n) / s.seconds
		out = append(out, s)
	}
	return out
}

func find(ss []summary, id string) (summary, bool) {
	for _, s := range ss {
		if s.c.id == id {
			return s, true
		}
	}
	return summary{}, false
}

// render writes the Markdown report: conditions, the table of medians, the
// issue's targets, each contender's settings and where gofka's time goes.
func (rep *report) render(cfg *config, w *workload, profile string) string {
	ss := rep.summaries(cfg.n)
	var b strings.Builder
	fmt.Fprintf(&b, "## End-to-end click-count: gofka, Kafka Streams, goka and raw pipes\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s\n", testkit.Machine())
	fmt.Fprintf(&b, "- broker: %s\n", rep.broker)
	fmt.Fprintf(&b, "- input: %s clicks (%s real, %s users), %d partitions per topic; the same records are loaded into fresh topics before every measurement\n",
		thousands(cfg.n), thousands(w.real), thousands(len(w.expected)), cfg.partitions)
	fmt.Fprintf(&b, "- runs: %d per contender, the order reversed every other run; medians below. Time runs from starting the contender's process until the whole input is reflected in its output (start-up and group join included); every output was then read back and checked count by count\n", cfg.runs)
	fmt.Fprintf(&b, "- command: `%s`\n\n", cfg.command)

	b.WriteString("| contender | records/s | vs gofka | seconds | CPU seconds | CPU µs per click | peak RSS MB | records/s in each run |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	g, hasGofka := find(ss, "gofka")
	for _, s := range ss {
		vs := "–"
		if hasGofka {
			vs = fmt.Sprintf("%.2f×", s.rate/g.rate)
		}
		var runs []string
		for _, r := range s.rates {
			runs = append(runs, fmt.Sprintf("%.0f", r))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f | %.2f | %.2f | %.0f | %s |\n",
			s.c.name, s.rate, vs, s.seconds, s.cpu, s.cpu/float64(cfg.n)*1e6, s.rssMB, strings.Join(runs, ", "))
	}

	if hasGofka {
		b.WriteString("\n### Targets (issue 5; reported, not asserted)\n\n| target | measured | verdict |\n|---|---:|---|\n")
		rate := func(id string, factor float64, label string) {
			s, ok := find(ss, id)
			if !ok {
				return
			}
			r := g.rate / s.rate
			fmt.Fprintf(&b, "| gofka ≥ %.1f× %s in records/s | %.2f× | %s |\n", factor, label, r, verdict(r, factor))
		}
		rate("kstreams", 2, "Kafka Streams (default 10 MiB cache)")
		rate("kstreams-nocache", 2, "Kafka Streams (no cache)")
		rate("goka", 3, "goka")
		rate("pipe", 0.8, "the raw franz-go pipe")
		if p2, ok := find(ss, "pipe2"); ok {
			fmt.Fprintf(&b, "| (no target) gofka vs the two-hop pipe, the limit for a topology with one repartition | %.2f× | – |\n", g.rate/p2.rate)
		}
		if k, ok := find(ss, "kstreams"); ok {
			met := "met"
			if g.rssMB >= k.rssMB {
				met = fmt.Sprintf("**missed**: %.0f%% above", (g.rssMB/k.rssMB-1)*100)
			}
			fmt.Fprintf(&b, "| gofka peak RSS below Kafka Streams' (10 MiB cache) | %.0f MB vs %.0f MB | %s |\n", g.rssMB, k.rssMB, met)
		}
	}

	if len(rep.notes) > 0 {
		b.WriteString("\n")
		for _, n := range rep.notes {
			fmt.Fprintf(&b, "NOTE: %s\n", n)
		}
	}
	b.WriteString("\n### How each contender runs\n\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "- **%s**: %s\n", s.c.name, s.c.note)
	}
	if rep.javaVersion != "" {
		fmt.Fprintf(&b, "- Kafka Streams runs in `java -Xmx%s` (%s, default GC); its RSS is the JVM's\n", cfg.javaHeap, rep.javaVersion)
	}
	fmt.Fprintf(&b, "- commit interval: %s for gofka and Kafka Streams; goka commits offsets every second (Sarama's default)\n", cfg.gofkaCommit)
	if profile != "" {
		b.WriteString("\n### Where gofka's time goes\n\nCPU profile of one extra, unmeasured gofka run (`bench/results/gofka.cpu.pprof`; `bench/results/gofka-profile.txt` has 40 lines of `go tool pprof -top -cum` and of `-top`). The shares overlap: each includes what it calls.\n\n")
		table, top, _ := strings.Cut(profile, "\n```\n")
		b.WriteString(table)
		lines := strings.Split(strings.TrimRight(top, "\n"), "\n")
		for i, l := range lines { // leave out File, Build ID, Type and Time
			if strings.HasPrefix(l, "Duration:") {
				lines = lines[i:]
				break
			}
		}
		lines = belowLoop(lines)
		if len(lines) > 30 {
			lines = lines[:30]
		}
		b.WriteString("\n```\n$ go tool pprof -top -cum -nodecount=40 <gofka binary> gofka.cpu.pprof   (callers of Engine.processPartition left out)\n")
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n```\n")
	}
	return b.String()
}

// verdict says whether ratio r meets target t, and if not by how much it falls short.
func verdict(r, t float64) string {
	if r >= t {
		return "met"
	}
	return fmt.Sprintf("**missed** by %.0f%% (%.2f× short of %.2f×)", (1-r/t)*100, t/r, t)
}

// belowLoop leaves out of pprof -top -cum lines the functions that only call
// down to the engine's per-batch work (runtime.main, cobra, the engine's loop):
// those with a larger cumulative share than Engine.processPartition.
func belowLoop(lines []string) []string {
	cumOf := func(line string) (float64, bool) {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		return v, err == nil
	}
	limit := -1.0
	for _, l := range lines {
		if strings.Contains(l, "engine.(*Engine).processPartition") {
			limit, _ = cumOf(l)
		}
	}
	if limit < 0 {
		return lines
	}
	var out []string
	for _, l := range lines {
		if c, ok := cumOf(l); ok && c > limit {
			continue
		}
		out = append(out, l)
	}
	return out
}
