// Command benchreport turns the output of BenchmarkNexmark (go test -bench
// Nexmark -cpu 1 ./examples/nexmark/) into bench/results/nexmark.md: per query,
// our events per second on one core beside the best published per-core figures
// issue 15 names, Flink 1.13 (the nexmark README) and Feldera (its benchmark
// README, 16 worker cores), the ratios, and a text bar chart.
//
//	go test … | tee nexmark.txt ──benchreport -in nexmark.txt -out nexmark.md──▶ table + chart
//
// With -count above 1, a query's figure is the median of its runs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Published per-core events/s (issue 15, point 8).
var (
	flink   = map[string]float64{"q0": 155e3, "q1": 158e3, "q2": 175e3, "q3": 152e3, "q4": 34e3, "q5": 22e3, "q7": 12e3, "q8": 146e3, "q11": 40e3}
	feldera = map[string]float64{"q0": 436e3, "q1": 412e3, "q2": 422e3, "q3": 413e3, "q4": 265e3, "q5": 412e3, "q7": 196e3, "q8": 415e3}
	order   = []string{"q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11"}
)

var line = regexp.MustCompile(`^BenchmarkNexmark/(q\d+)\s+\d+\s+\d+ ns/op\s+([\d.e+]+) events/cpu-s\s+([\d.e+]+) events/s\s+(\d+) B/op\s+(\d+) allocs/op`)

func main() {
	in := flag.String("in", "bench/results/nexmark.txt", "go test -bench output")
	out := flag.String("out", "bench/results/nexmark.md", "report to write")
	command := flag.String("command", "make nexmark", "the command that made the input, for the report")
	load := flag.String("load", "", "the machine's load averages during the run, for the report")
	flag.Parse()
	if err := run(*in, *out, *command, *load); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

type result struct {
	rates, wall   []float64 // events per CPU second, per wall-clock second
	bytes, allocs string
}

// eventsPerOp is BenchmarkNexmark's events per op.
const eventsPerOp = 100_000

func run(in, out, command, load string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	results := map[string]*result{}
	var cpu string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if c, ok := strings.CutPrefix(sc.Text(), "cpu: "); ok {
			cpu = c
		}
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		rate, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return err
		}
		wall, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return err
		}
		r := results[m[1]]
		if r == nil {
			r = &result{}
			results[m[1]] = r
		}
		r.rates, r.wall = append(r.rates, rate), append(r.wall, wall)
		r.bytes, r.allocs = m[4], m[5]
	}
	if len(results) == 0 {
		return fmt.Errorf("%s has no BenchmarkNexmark results", in)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Nexmark, in process, one core\n\n")
	fmt.Fprintf(&b, "Made by `%s` (BenchmarkNexmark in examples/nexmark: 100,000 generated events per op, decoded from\n", command)
	fmt.Fprintf(&b, "their JSON by the generated tasks, through each query's topology into a discarding sink, `-cpu 1`).\n")
	fmt.Fprintf(&b, "CPU: %s. The machine is shared (2 cores, other jobs running; load averages at the end: %s).\n", cpu, load)
	fmt.Fprintf(&b, "Per core is events per CPU second of the process (getrusage: user + system time of every thread, the\n")
	fmt.Fprintf(&b, "garbage collector's included), which counts only what ran; by the wall clock, which counts the time the\n")
	fmt.Fprintf(&b, "benchmark waited for a core on the busy machine, is beside it, a lower bound. Each is the median of the runs.\n")
	fmt.Fprintf(&b, "Flink 1.13 and Feldera are their published per-core figures, not run here.\n\n")
	fmt.Fprintf(&b, "| query | gofka events/s per core (CPU time) | by the wall clock | Flink 1.13 | × Flink | Feldera | × Feldera | B/event | allocs/event |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var chart []string
	for _, q := range order {
		r := results[q]
		if r == nil {
			fmt.Fprintf(&b, "| %s | not built yet | | %s | | %s | | | |\n", q, k(flink[q]), k(feldera[q]))
			continue
		}
		rate := median(r.rates)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", q, k(rate), k(median(r.wall)), k(flink[q]), ratio(rate, flink[q]), k(feldera[q]), ratio(rate, feldera[q]), perEvent(r.bytes), perEvent(r.allocs))
		chart = append(chart, fmt.Sprintf("%-4s gofka   %s %s", q, bar(rate), k(rate)),
			fmt.Sprintf("%-4s Flink   %s %s", "", bar(flink[q]), k(flink[q])))
		if feldera[q] > 0 {
			chart = append(chart, fmt.Sprintf("%-4s Feldera %s %s", "", bar(feldera[q]), k(feldera[q])))
		}
	}
	fmt.Fprintf(&b, "\nEvents/s per core, by CPU time (one # = 50K):\n\n```\n%s\n```\n", strings.Join(chart, "\n"))
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func perEvent(n string) string {
	x, _ := strconv.ParseFloat(n, 64)
	return strconv.FormatFloat(x/eventsPerOp, 'f', 2, 64)
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func k(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0fK", x/1e3)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", a/b)
}

func bar(x float64) string { return strings.Repeat("#", max(1, int(x/50e3+0.5))) }
