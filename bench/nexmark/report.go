package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Published per-core figures (issue 15): Flink 1.13 (the nexmark README) and
// Feldera (its benchmark README, 16 worker cores); not run here.
var (
	flink   = map[string]float64{"q0": 155e3, "q1": 158e3, "q2": 175e3, "q3": 152e3, "q4": 34e3, "q5": 22e3, "q7": 12e3, "q8": 146e3, "q11": 40e3}
	feldera = map[string]float64{"q0": 436e3, "q1": 412e3, "q2": 422e3, "q3": 413e3, "q4": 265e3, "q5": 412e3, "q7": 196e3, "q8": 415e3}
)

type row struct {
	q               query
	want            int
	gofka, kstreams *result
}

type report struct {
	events int64
	rate   int                // events per second of event time
	inproc map[string]float64 // events per CPU second, median
	load   string
	rows   []row
}

// readInProcess takes the median events/cpu-s of each BenchmarkNexmark/qN line.
func readInProcess(path string) map[string]float64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	all := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || !strings.HasPrefix(fs[0], "BenchmarkNexmark/") {
			continue
		}
		q, _, _ := strings.Cut(strings.TrimPrefix(fs[0], "BenchmarkNexmark/"), "-")
		for i := 1; i < len(fs); i++ {
			if fs[i] == "events/cpu-s" {
				v, _ := strconv.ParseFloat(fs[i-1], 64)
				all[q] = append(all[q], v)
			}
		}
	}
	med := map[string]float64{}
	for q, vs := range all {
		slices.Sort(vs)
		med[q] = vs[len(vs)/2]
	}
	return med
}

func k(v float64) string {
	if v == 0 {
		return ""
	}
	if v >= 1e6 {
		return fmt.Sprintf("%.2fM", v/1e6)
	}
	return fmt.Sprintf("%.0fK", v/1e3)
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Nexmark through a Kafka broker: gofka vs Kafka Streams 3.9.1\n\n")
	fmt.Fprintf(&b, "Written by `cd bench && go run ./nexmark` (part of `make nexmark`). %d events (%d per second of event time), one partition, pre-loaded; "+
		"each program runs from its start (JVM and group join included) until the last row the reference expects arrived. "+
		"Per core = events per CPU second of the program's process (user + system). "+
		"The machine (2 cores) was shared with other jobs; load average at the end: %s. "+
		"In process = `make nexmark` (a), events per CPU second, median. Flink 1.13 and Feldera are their published per-core figures, not run here.\n\n", r.events, r.rate, r.load)
	fmt.Fprintf(&b, "| query | in process /core | gofka events/s | gofka /core | Kafka Streams events/s | Kafka Streams /core | gofka ÷ KS (/core) | Flink 1.13 /core | Feldera /core | rows = reference |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range r.rows {
		q := x.q.name
		if x.gofka == nil {
			note := "not run"
			if x.q.topology == "" {
				note = "not built"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | | | | | %s | %s | |\n", q, k(r.inproc[q]), note, k(flink[q]), k(feldera[q]))
			continue
		}
		g := x.gofka
		ks, ksc, ratio, match := "", "", "", fmt.Sprintf("gofka %s", yes(g.match, g.rows, x.want))
		if g.retried {
			match += " (second run: the first stalled)"
		}
		if x.kstreams != nil {
			c := x.kstreams
			ks, ksc = k(c.perSecond(r.events)), k(c.perCPUSecond(r.events))
			if x := ratioOr0(g.perCPUSecond(r.events), c.perCPUSecond(r.events)); x > 0 {
				ratio = fmt.Sprintf("%.2f×", x)
			}
			match += fmt.Sprintf(", KS %s", yes(c.match, c.rows, x.want))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", q, k(r.inproc[q]),
			k(g.perSecond(r.events)), k(g.perCPUSecond(r.events)), ks, ksc, ratio, k(flink[q]), k(feldera[q]), match)
	}
	return b.String()
}

func yes(ok bool, got, want int) string {
	if got < 0 {
		return "run FAILED (see the driver's output)"
	}
	if ok {
		return fmt.Sprintf("yes (%d rows)", want)
	}
	return fmt.Sprintf("NO (%d rows, want %d)", got, want)
}

// keepMarker starts what write keeps of the file it replaces: the in-process
// report (examples/nexmark/benchreport) that make nexmark (a) wrote before.
const keepMarker = "## In process (make nexmark (a))"

// write writes the table and, below it, the in-process report found at path
// (all of it the first time, from keepMarker on after), and the chart as path
// with .png for .md.
func (r *report) write(path string) error {
	old, _ := os.ReadFile(path)
	text := r.markdown()
	png := strings.TrimSuffix(path, ".md") + ".png"
	text += fmt.Sprintf("\n![events per core](%s)\n", filepath.Base(png))
	if i := strings.Index(string(old), keepMarker); i >= 0 {
		text += "\n" + string(old[i:])
	} else if len(old) > 0 && !strings.HasPrefix(string(old), "# Nexmark through") {
		text += "\n" + keepMarker + "\n\n" + string(old)
	}
	img, err := r.chart()
	if err != nil {
		return err
	}
	if err := os.WriteFile(png, img, 0o644); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
