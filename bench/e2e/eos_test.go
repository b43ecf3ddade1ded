package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestExactlyOnceBenchmarkSmall is make bench-eos in miniature on embedded
// kfake brokers: gofka at-least-once and exactly-once, one commit interval, a
// few thousand clicks. measure and measureLatency fail unless every output,
// read back read_committed, holds exactly the expected counts; this checks on
// top that every latency comes from a real click mapped to a real output
// (one per real click of the measured phase, each within the run's span) and
// that the report has its rows and ratios. It asserts no speed.
func TestExactlyOnceBenchmarkSmall(t *testing.T) {
	dir := t.TempDir()
	cfg := config{
		n: 3000, runs: 1, broker: "embedded", out: filepath.Join(dir, "eos.md"),
		timeout: 2 * time.Minute, verify: true, command: "cd bench && go test ./e2e",
		logTo: func(format string, args ...any) { t.Log(strings.TrimRight(fmt.Sprintf(format, args...), "\n")) },
		eos: eosConfig{
			on: true, intervals: []time.Duration{time.Second}, partitions: []int32{4},
			partitionsAt: time.Second, rate: 400, warmup: time.Second, duration: 3 * time.Second,
			latency: true, raw: filepath.Join(dir, "eos.json"),
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	_, rows, err := runEOS(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].EOS || !rows[1].EOS {
		t.Fatalf("want gofka at-least-once and exactly-once rows, got %d rows", len(rows))
	}
	span := float64(time.Since(start).Milliseconds())
	raw, err := os.ReadFile(cfg.eos.raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"gofka-alos-1s"`, `"gofka-eos-1s"`, `"p99_ms"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("the raw results have no %s:\n%s", key, raw)
		}
	}
	md, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| gofka click-count at-least-once, commit 1s |", "| gofka click-count exactly-once, commit 1s |", "gofka exactly-once / at-least-once, commit 1s"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report has no %q:\n%s", want, md)
		}
	}
	for _, row := range rows {
		checkLatency(t, &cfg, row, span)
	}
}

// checkLatency checks that row's latencies are one per real click of the
// measured phase, each within the span of the whole run.
func checkLatency(t *testing.T, cfg *config, row *eosRow, span float64) {
	t.Helper()
	if row.Latency == nil {
		t.Fatalf("%s: no latency", row.Name)
	}
	lat := row.Latency
	lw := newWorkload(int(cfg.eos.rate*(cfg.eos.warmup+cfg.eos.duration).Seconds()) + 600)
	measuredReal := 0
	for i := range lat.Produced {
		if !lw.bots[i] {
			measuredReal++
		}
	}
	if lat.Measured == 0 || lat.Measured >= measuredReal {
		t.Errorf("%s: %d latencies for %d real clicks produced: want one per real click of the measured phase only", row.Name, lat.Measured, measuredReal)
	}
	if len(lat.samples) != lat.Measured || lat.samples[0] <= 0 || lat.Max > span || lat.P50 > lat.P99 || lat.P99 > lat.Max {
		t.Errorf("%s: implausible latencies: %d samples, min %v, p50 %v, p99 %v, max %v ms (run took %v ms)", row.Name, len(lat.samples), lat.samples[0], lat.P50, lat.P99, lat.Max, span)
	}
	if lat.TSChecked == 0 {
		t.Errorf("%s: no output record was mapped to its input", row.Name)
	}
}

// The sustained rate counts the real clicks the output covers (a user's
// highest count, capped at its expected one; a cache may skip intermediate
// counts) and times 10% and 90% of them.
func TestSustainedRate(t *testing.T) {
	start := time.Unix(1000, 0)
	tr := &outputTracker{best: map[string]int64{}, want: map[string]int64{"a": 5, "b": 5}, real: 10}
	count := func(user string, n int64, at time.Duration) {
		v := binary.BigEndian.AppendUint64(nil, uint64(n))
		tr.add(&kgo.Record{Key: []byte(user), Value: v}, start.Add(at))
	}
	if got := tr.sustained(20, time.Second); got != 0 {
		t.Fatalf("sustained before any output = %v, want 0", got)
	}
	count("a", 1, time.Second)   // 1 of 10: 10%
	count("a", 1, 2*time.Second) // a duplicate covers nothing more
	count("b", 4, 3*time.Second) // a cache skipped 1..3: 5 of 10
	count("x", 9, 4*time.Second) // not a user of the workload
	count("b", 5, 5*time.Second) // 6 of 10
	count("a", 4, 7*time.Second) // 9 of 10: 90%
	count("a", 5, 8*time.Second) // 10 of 10
	count("a", 7, 9*time.Second) // above its expected count: covers nothing more
	if tr.covered != 10 || tr.matched != 2 {
		t.Fatalf("covered %d, matched %d; want 10 and 2", tr.covered, tr.matched)
	}
	// 20 input records, 80% of them in the 6 s from 10% to 90%.
	if got, want := tr.sustained(20, time.Second), 0.8*20/6; got != want {
		t.Errorf("sustained = %v, want %v", got, want)
	}
	if got := tr.sustained(20, 10*time.Second); got != 0 {
		t.Errorf("sustained over a 6 s span with a 10 s minimum = %v, want 0 (too few commits to time)", got)
	}
}

// TestEOSPlanBaseline: -eos-baseline gives each gofka interval and checkpoint
// row a twin running the other binary, with a key and name of its own, and
// leaves the rows the targets are computed from as they were.
func TestEOSPlanBaseline(t *testing.T) {
	e := eosConfig{intervals: []time.Duration{time.Second}, checkpoints: []time.Duration{time.Second},
		partitions: []int32{8}, partitionsAt: time.Second, baseline: "/tmp/old-clickcount"}
	rows := eosRows(eosPlan(e, false))
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.Key)
	}
	want := []string{"gofka-alos-1s", "gofka-baseline-alos-1s", "gofka-eos-1s", "gofka-baseline-eos-1s", "gofka-eos-ckpt-1s", "gofka-baseline-eos-ckpt-1s"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("rows %v, want %v", keys, want)
	}
	if r := rows.find("gofka", true, time.Second, 0, 8); r == nil || r.Key != "gofka-eos-1s" {
		t.Fatalf("find gofka exactly-once found %+v", r)
	}
	b := rows[1]
	if !strings.HasSuffix(b.Name, "(baseline)") {
		t.Errorf("baseline row named %q", b.Name)
	}
	if args := b.c.args(&measurement{cfg: &config{}, set: b.s}); args[0] != "/tmp/old-clickcount" {
		t.Errorf("baseline row runs %v", args)
	}
}
