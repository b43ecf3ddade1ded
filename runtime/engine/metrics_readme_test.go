package engine

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gofka/streams/coordinator"
)

// metricInfo is what the README says of a metric, and what its collector is.
type metricInfo struct {
	typ    string // counter, gauge or histogram
	labels string // "topic, partition", or "—"
}

// fakeRaft stands in for the coordinator in registries built by tests.
type fakeRaft struct{ s coordinator.RaftStats }

func (f fakeRaft) RaftStats() coordinator.RaftStats { return f.s }

// everyMetric is a registry with every gofka metric the binary can register:
// the ones of every replica, the coordinator's, and those only peer TLS or
// global tables add.
func everyMetric() *metrics {
	m := newMetrics()
	m.countPeerTLS(&coordinator.PeerTLS{})
	m.countRaft(fakeRaft{coordinator.RaftStats{Term: 1}})
	zero := func() float64 { return 0 }
	m.countGlobalTable("t", zero, zero, zero)
	return m
}

// describe returns each gofka metric's type and labels, from its collector:
// a vector's type is its Go type, a single metric's what it writes.
func describe(t *testing.T, m *metrics) map[string]metricInfo {
	out := map[string]metricInfo{}
	for _, c := range m.collectors {
		ch := make(chan *prometheus.Desc, 4)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			name, labels := descParts(d.String())
			var typ string
			switch c := c.(type) {
			case *prometheus.CounterVec:
				typ = "counter"
			case *prometheus.GaugeVec:
				typ = "gauge"
			case *prometheus.HistogramVec:
				typ = "histogram"
			case prometheus.Metric:
				var w dto.Metric
				if err := c.Write(&w); err != nil {
					t.Fatal(err)
				}
				switch {
				case w.Counter != nil:
					typ = "counter"
				case w.Gauge != nil:
					typ = "gauge"
				case w.Histogram != nil:
					typ = "histogram"
				}
			}
			out[name] = metricInfo{typ, labels}
		}
	}
	return out
}

var (
	descFields = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*, constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)
	constLabel = regexp.MustCompile(`(\w+)="[^"]*"`)
)

// descParts takes a Desc's name and label names (const and variable) out of
// its String(), the only way client_golang shows them.
func descParts(s string) (string, string) {
	mt := descFields.FindStringSubmatch(s)
	if mt == nil {
		return s, "?"
	}
	var labels []string
	for _, c := range constLabel.FindAllStringSubmatch(mt[2], -1) {
		labels = append(labels, c[1])
	}
	if mt[3] != "" {
		labels = append(labels, strings.Split(mt[3], ",")...)
	}
	if len(labels) == 0 {
		return mt[1], "—"
	}
	return mt[1], strings.Join(labels, ", ")
}

// readmeMetrics reads the README's table of metrics.
func readmeMetrics(t *testing.T) map[string]metricInfo {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `(gofka_[a-z_]+)` \\| (\\w+) \\| ([^|]+) \\|")
	out := map[string]metricInfo{}
	for _, l := range strings.Split(string(data), "\n") {
		mt := row.FindStringSubmatch(l)
		if mt == nil {
			continue
		}
		if _, dup := out[mt[1]]; dup {
			t.Errorf("README lists %s twice", mt[1])
		}
		out[mt[1]] = metricInfo{mt[2], strings.ReplaceAll(strings.TrimSpace(mt[3]), "`", "")}
	}
	return out
}

// TestREADMEListsEveryMetric: the README's table lists every metric the binary
// registers, with its type and labels, and nothing else.
func TestREADMEListsEveryMetric(t *testing.T) {
	got := describe(t, everyMetric())
	doc := readmeMetrics(t)
	if len(got) < 25 {
		t.Fatalf("only %d metrics described: %v", len(got), got)
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d, ok := doc[n]
		switch {
		case !ok:
			t.Errorf("%s (%s, labels %s) is not in the README's table", n, got[n].typ, got[n].labels)
		case d != got[n]:
			t.Errorf("README: %s is a %s with labels %s; registered: %s with labels %s", n, d.typ, d.labels, got[n].typ, got[n].labels)
		}
	}
	for n := range doc {
		if _, ok := got[n]; !ok {
			t.Errorf("the README lists %s, which is not registered", n)
		}
	}
	if fmt.Sprint(everyMetric().names()) != fmt.Sprint(names) {
		t.Errorf("names() %v, described %v", everyMetric().names(), names)
	}
}
