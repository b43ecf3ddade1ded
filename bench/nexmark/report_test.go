package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportTableAndChart writes a report of made-up results over an earlier
// in-process report: the table's per-core figures and ratio are those the
// results give, the in-process report stays below it, and the chart is a PNG.
func TestReportTableAndChart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nexmark.md")
	os.WriteFile(path, []byte("# in-process report\n"), 0o644)
	r := &report{events: 1_000_000, rate: 10_000, inproc: map[string]float64{"q0": 2_500_000}}
	for _, q := range queries {
		x := row{q: q}
		if q.name == "q0" {
			x.want = 10
			x.gofka = &result{wall: 2, cpu: 1, rows: 10, match: true}     // 500K/s, 1M per core
			x.kstreams = &result{wall: 10, cpu: 4, rows: 10, match: true} // 100K/s, 250K per core
		}
		r.rows = append(r.rows, x)
	}
	if err := r.write(path); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(path)
	for _, want := range []string{
		"| q0 | 2.50M | 500K | 1.00M | 100K | 250K | 4.00× | 155K | 436K | gofka yes (10 rows), KS yes (10 rows) |",
		"| q3 |  | not run |", // a query left out of the run (every query is built)
		keepMarker + "\n\n# in-process report\n",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	img, err := os.ReadFile(filepath.Join(dir, "nexmark.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("chart: %v", err)
	}
	// Written again, the in-process report is kept once.
	if err := r.write(path); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(path)
	if strings.Count(string(md2), "# in-process report") != 1 {
		t.Errorf("second write:\n%s", md2)
	}
	if os.Getenv("NEXMARK_CHART_OUT") != "" {
		os.WriteFile(os.Getenv("NEXMARK_CHART_OUT"), img, 0o644)
	}
}
