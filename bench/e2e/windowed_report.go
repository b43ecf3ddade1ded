package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// renderWindowed writes the windowed benchmark's Markdown report: conditions,
// the table of medians with each contender's ratio to Kafka Streams, and issue
// 14's end-to-end targets.
func (rep *report) renderWindowed(cfg *config, w *viewWorkload, loadBefore string) string {
	ss := rep.summaries(w.views())
	var b strings.Builder
	b.WriteString("## End-to-end windowed count: gofka examples/pageviews vs Kafka Streams\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s; load average (1, 5, 15 min) %s before the run, %s after (the machine is shared)\n", testkit.Machine(), loadBefore, testkit.LoadAverage())
	fmt.Fprintf(&b, "- broker: %s\n", rep.broker)
	fmt.Fprintf(&b, "- input: %s page views of %s pages, event times 1 ms apart as the records' timestamps, %s (%.1f%%) out of order by up to 10 s (within the grace), then one view per partition an hour later so that every window closes; %d partitions per topic, loaded into fresh topics before every measurement. Brute force: %s windows, %s of them closed (each must have one final count), %d late views\n",
		thousands(w.views()), thousands(viewPages), thousands(w.outOfOrder), 100*float64(w.outOfOrder)/float64(w.views()),
		cfg.partitions, thousands(len(w.counts)), thousands(len(w.closed)), w.late)
	fmt.Fprintf(&b, "- topology: one-minute tumbling windows, 10 s grace, count per page; every update to one topic, the final count per window (Suppress(UntilWindowCloses())) to another\n")
	fmt.Fprintf(&b, "- runs: %d per contender, the order reversed every other run; medians below. Time runs from starting the contender's process until the final-count topic holds every closed window's final count **and** the group has committed every input offset (start-up and group join included; records/s = views ÷ that time). Every output was then read back and checked against the brute force: each window's updates exactly 1..its count, each closed window exactly one final count\n", cfg.runs)
	fmt.Fprintf(&b, "- command: `%s`\n\n", cfg.command)

	b.WriteString("| contender | records/s | vs Kafka Streams | seconds | CPU seconds | CPU µs per view | peak RSS MB | records/s in each run |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	k, hasKS := find(ss, "kstreams-windowed")
	for _, s := range ss {
		vs := "–"
		if hasKS {
			vs = fmt.Sprintf("%.2f×", s.rate/k.rate)
		}
		var runs []string
		for _, r := range s.rates {
			runs = append(runs, fmt.Sprintf("%.0f", r))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f | %.2f | %.2f | %.0f | %s |\n",
			s.c.name, s.rate, vs, s.seconds, s.cpu, s.cpu/float64(w.views())*1e6, s.rssMB, strings.Join(runs, ", "))
	}

	g, hasGofka := find(ss, "gofka-windowed")
	if hasGofka && hasKS {
		b.WriteString("\n### Targets (issue 14, point 10, end to end; reported, not asserted)\n\n| target | measured | verdict |\n|---|---:|---|\n")
		r := g.rate / k.rate
		fmt.Fprintf(&b, "| gofka ≥ 3× Kafka Streams in records/s | %.2f× | %s |\n", r, verdict(r, 3))
		met := "met"
		if g.rssMB >= k.rssMB {
			met = fmt.Sprintf("**missed**: %.0f%% above", (g.rssMB/k.rssMB-1)*100)
		}
		fmt.Fprintf(&b, "| gofka peak RSS below Kafka Streams' | %.0f MB vs %.0f MB | %s |\n", g.rssMB, k.rssMB, met)
		fmt.Fprintf(&b, "| (no target) CPU seconds per view, Kafka Streams ÷ gofka | %.2f× | – |\n", k.cpu/g.cpu)
	}
	for i, n := range rep.notes {
		if i == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "NOTE: %s\n", n)
	}
	b.WriteString("\n### How each contender runs\n\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "- **%s**: %s\n", s.c.name, s.c.note)
	}
	if rep.javaVersion != "" {
		fmt.Fprintf(&b, "- Kafka Streams runs in `java -Xmx%s` (%s, default GC); its RSS is the JVM's\n", cfg.javaHeap, rep.javaVersion)
	}
	fmt.Fprintf(&b, "- commit interval: %s for both. A measurement is complete only once a commit covers the whole input, so up to one interval of its time is waiting, not processing: a larger share of the faster contender's time (compare the CPU seconds)\n", cfg.gofkaCommit)
	return b.String()
}
