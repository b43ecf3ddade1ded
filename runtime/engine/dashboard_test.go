package engine

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metricsql"
	dto "github.com/prometheus/client_model/go"
)

// dashboard is what the test reads of a Grafana dashboard: its panels (rows
// nest theirs) with their queries, and its variables.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title   string              `json:"title"`
	Type    string              `json:"type"`
	GridPos *struct{ H, W int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// grafanaVars are Grafana's own interval variables, replaced by a duration
// before parsing (a query's $instance sits in a label matcher's string).
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// TestDashboardQueriesNameExportedMetrics loads deploy/grafana/gofka.json,
// parses every panel's PromQL expression with a PromQL parser
// (VictoriaMetrics' metricsql, which reads PromQL and extends it) and checks
// that every metric it names is one the binary exports: a gofka metric of the
// registry, a histogram's _bucket, _sum or _count series, or one of the Go
// and process collectors' metrics as the registry gathers them. The
// instance variable's label_values() query is checked too.
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../../deploy/grafana/gofka.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 {
		t.Errorf("dashboard title %q, uid %q, schemaVersion %d: want all set (a schema of Grafana 9 or later)", d.Title, d.UID, d.SchemaVersion)
	}
	exported := exportedSeries(t)
	used := map[string]bool{}
	var walk func([]panel)
	queries := 0
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.GridPos == nil || p.GridPos.W == 0 || p.Type == "" {
				t.Errorf("panel %q has no type or grid position", p.Title)
			}
			walk(p.Panels)
			for _, tg := range p.Targets {
				queries++
				names, err := metricNames(tg.Expr)
				if err != nil {
					t.Errorf("panel %q: %q does not parse: %v", p.Title, tg.Expr, err)
					continue
				}
				if len(names) == 0 {
					t.Errorf("panel %q: %q names no metric", p.Title, tg.Expr)
				}
				for _, n := range names {
					used[n] = true
					if !exported[n] {
						t.Errorf("panel %q: %q names %s, which the binary does not export", p.Title, tg.Expr, n)
					}
				}
			}
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		mt := labelValues.FindSubmatch(v.Query)
		if mt == nil || !exported[string(mt[1])] {
			t.Errorf("variable %s: query %s names no exported metric", v.Name, v.Query)
		}
	}
	if queries < 20 {
		t.Errorf("only %d queries in the dashboard", queries)
	}
	// A panel for each thing the issue names: throughput, lag, poll and
	// commit latency, restore, checkpoints, store sizes, Raft.
	for _, n := range []string{"gofka_process_total", "gofka_records_lag", "gofka_poll_seconds_bucket", "gofka_commit_seconds_bucket",
		"gofka_restore_remaining_records", "gofka_restore_records_total", "gofka_checkpoint_seconds_bucket",
		"gofka_checkpoint_uploaded_bytes_total", "gofka_state_store_bytes", "gofka_raft_term", "gofka_raft_is_leader", "gofka_raft_leader_changes_total"} {
		if !used[n] {
			t.Errorf("no panel queries %s", n)
		}
	}
}

// metricNames parses a PromQL expression and returns the metric names its
// selectors name.
func metricNames(expr string) ([]string, error) {
	e, err := metricsql.Parse(grafanaVars.Replace(expr))
	if err != nil {
		return nil, err
	}
	var out []string
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		me, ok := e.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for _, lfs := range me.LabelFilterss {
			for _, lf := range lfs {
				if lf.Label == "__name__" && !lf.IsRegexp && !lf.IsNegative && !slices.Contains(out, lf.Value) {
					out = append(out, lf.Value)
				}
			}
		}
	})
	return out, nil
}

// exportedSeries is every metric name /metrics can serve: the gofka metrics
// (a histogram's as its three series), and the families the registry
// gathers from the Go and process collectors.
func exportedSeries(t *testing.T) map[string]bool {
	m := everyMetric()
	out := map[string]bool{}
	for n, info := range describe(t, m) {
		if info.typ == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[n+s] = true
			}
			continue
		}
		out[n] = true
	}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "gofka_") {
			continue
		}
		out[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_SUMMARY:
			out[f.GetName()+"_sum"], out[f.GetName()+"_count"] = true, true
		case dto.MetricType_HISTOGRAM:
			out[f.GetName()+"_bucket"], out[f.GetName()+"_sum"], out[f.GetName()+"_count"] = true, true, true
		}
	}
	return out
}
