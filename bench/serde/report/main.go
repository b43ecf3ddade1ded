// Command report turns the output of the serde benchmarks (go test -bench Serde
// -benchmem -count N ./serde) into bench/results/serde.md: per record and
// operation, each implementation's median time, bytes and allocations per op,
// its speed-up over encoding/json, and the generated serde's ratio to the
// fastest library.
//
//	go run ./serde/report -in results/serde.txt -out results/serde.md -command "make bench-serde"
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// line matches BenchmarkSerde/record=R/op=O/impl=I-P  N  T ns/op  ... B B/op  A allocs/op
var line = regexp.MustCompile(`^BenchmarkSerde/record=(\w+)/op=(\w+)/impl=([\w-]+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op.*?\s([\d.]+) B/op\s+([\d.]+) allocs/op`)

// impls in the order of the table; the last is ours.
var impls = []string{"encoding-json", "goccy-go-json", "sonic-std", "sonic-fastest", "generated"}

type sample struct {
	ns, bytes, allocs []float64
	paired            float64 // time over the generated serde's, median of paired rounds; 0 if not measured
}

// paired matches one metric of BenchmarkSerdePaired: "7.27 bid-decode-encoding-json/gen".
var paired = regexp.MustCompile(`([\d.]+) (\w+)-(\w+)-([\w-]+)/gen`)

func main() {
	in := flag.String("in", "results/serde.txt", "benchmark output to read")
	out := flag.String("out", "results/serde.md", "Markdown report to write")
	command := flag.String("command", "make bench-serde", "the command that produced the input, for the report")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	samples, header, err := parse(f)
	if err != nil {
		fail(err)
	}
	w, err := os.Create(*out)
	if err != nil {
		fail(err)
	}
	if err := write(w, samples, header, *command); err != nil {
		fail(err)
	}
	if err := w.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

// parse collects the samples by "record/op/impl", and the goos/goarch/cpu lines.
func parse(r io.Reader) (map[string]*sample, []string, error) {
	samples := map[string]*sample{}
	pairs := map[string]float64{}
	var header []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(text, "goos:") || strings.HasPrefix(text, "goarch:") || strings.HasPrefix(text, "cpu:") {
			if !slices.Contains(header, text) {
				header = append(header, text)
			}
		}
		if strings.HasPrefix(text, "BenchmarkSerdePaired") {
			for _, m := range paired.FindAllStringSubmatch(text, -1) {
				v, err := strconv.ParseFloat(m[1], 64)
				if err != nil {
					return nil, nil, err
				}
				pairs[m[2]+"/"+m[3]+"/"+m[4]] = v
			}
			continue
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		key := m[1] + "/" + m[2] + "/" + m[3]
		s := samples[key]
		if s == nil {
			s = &sample{}
			samples[key] = s
		}
		for i, dst := range []*[]float64{&s.ns, &s.bytes, &s.allocs} {
			v, err := strconv.ParseFloat(m[4+i], 64)
			if err != nil {
				return nil, nil, err
			}
			*dst = append(*dst, v)
		}
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("no BenchmarkSerde lines in the input")
	}
	for key, ratio := range pairs {
		if s := samples[key]; s != nil {
			s.paired = ratio
		}
	}
	return samples, header, sc.Err()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(r float64) string {
	if r == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

func write(w io.Writer, samples map[string]*sample, header []string, command string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# JSON serdes: generated vs encoding/json, goccy/go-json and sonic\n\n")
	fmt.Fprintf(&b, "Produced by `%s` (bench/serde; report by bench/serde/report). %s.\n", command, strings.Join(header, ", "))
	fmt.Fprintf(&b, "Medians of every run; ×json is encoding/json's time over the implementation's (higher is faster).\n")
	fmt.Fprintf(&b, "The paired column comes from BenchmarkSerdePaired: rounds that time a batch of every implementation back to back,\n")
	fmt.Fprintf(&b, "so that a busy machine slows them alike; it is the median over the rounds of the implementation's time over the\n")
	fmt.Fprintf(&b, "generated serde's (higher: the generated serde is faster). On a shared machine it is the figure to trust.\n")
	fmt.Fprintf(&b, "sonic-std is sonic.ConfigStd (encoding/json-compatible output), sonic-fastest is sonic.ConfigFastest.\n")
	fmt.Fprintf(&b, "Encoders other than the generated one cannot append to the caller's buffer: they allocate their output.\n\n")
	var summary []string
	for _, record := range []string{"click", "bid"} {
		for _, op := range []string{"decode", "encode"} {
			base := samples[record+"/"+op+"/encoding-json"]
			gen := samples[record+"/"+op+"/generated"]
			if base == nil || gen == nil {
				continue
			}
			fmt.Fprintf(&b, "## %s %s (%d runs)\n\n| implementation | ns/op | B/op | allocs/op | ×json | paired: time / generated's |\n|---|---:|---:|---:|---:|---:|\n", record, op, len(gen.ns))
			fastestLib, fastestName := 0.0, ""
			for _, impl := range impls {
				s := samples[record+"/"+op+"/"+impl]
				if s == nil {
					continue
				}
				ns := median(s.ns)
				fmt.Fprintf(&b, "| %s | %.1f | %.0f | %.0f | %.2f× | %s |\n", impl, ns, median(s.bytes), median(s.allocs), median(base.ns)/ns, ratio(s.paired))
				if impl != "generated" && impl != "encoding-json" && (fastestName == "" || ns < fastestLib) {
					fastestLib, fastestName = ns, impl
				}
			}
			genNs := median(gen.ns)
			line := fmt.Sprintf("%s %s: generated %.2f× encoding/json (target ≥ 5×), %.2f× the fastest library (%s; target > 1×)",
				record, op, median(base.ns)/genNs, fastestLib/genNs, fastestName)
			if fast := samples[record+"/"+op+"/"+fastestName]; base.paired > 0 && fast != nil {
				line += fmt.Sprintf("; paired rounds: %.2f× and %.2f×", base.paired, fast.paired)
			}
			summary = append(summary, line)
			fmt.Fprintf(&b, "\n%s.\n\n", line)
		}
	}
	fmt.Fprintf(&b, "## Summary\n\n")
	for _, s := range summary {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
