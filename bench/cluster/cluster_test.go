package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestoreFromSnapshotEqualsReplay runs the restore scenario small, end to
// end (the click-count binary, an embedded broker process, a real RocksDB
// store and snapshot): 20,000 distinct users are counted, then the replica's
// state is deleted and restored once from the snapshot and once by replaying
// the whole changelog. The scenario itself fails unless every stateful task
// restored the way its mode means and the store read back after each restore
// holds exactly the 20,000 users counted once; here we also check the replay
// really replayed every key and that the report says so.
func TestRestoreFromSnapshotEqualsReplay(t *testing.T) {
	const keys = 20_000
	dir := t.TempDir()
	cfg := config{
		broker: "embedded", keys: keys, n: 1, runs: 1, rate: 100, partitions: 4,
		scenarios: []string{"restore"}, checkpointInterval: time.Second, verify: true,
		out: filepath.Join(dir, "cluster.md"), raw: filepath.Join(dir, "cluster-runs.json"),
		command: "cd bench && go test ./cluster", timeout: 3 * time.Minute,
		logf: func(format string, args ...any) { t.Logf(strings.TrimSuffix(format, "\n"), args...) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	md, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.raw)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b)
	for _, want := range []string{`"mode": "snapshot"`, `"mode": "changelog"`, `"verified": true`} {
		if !strings.Contains(raw, want) {
			t.Errorf("the raw results lack %s:\n%s", want, raw)
		}
	}
	if !strings.Contains(raw, `"changelog_records_replayed": 20000`) {
		t.Errorf("the full replay did not replay every one of the %d keys:\n%s", keys, raw)
	}
	if !strings.Contains(md, "| 1 | snapshot |") || !strings.Contains(md, "20,000 keys, right") {
		t.Errorf("the report lacks the restore rows:\n%s", md)
	}
}

// TestMemoryScenario runs the memory scenario small (20,000 keys, the
// binary of this tree only, an embedded broker) and checks what does not
// depend on the machine: every run counted all its keys, and the binary set
// its Go memory limit to the budget's Go share (9/16 of --memory past its fixed part), as its own
// /metrics reports it. Peak RSS is reported, never asserted.
func TestMemoryScenario(t *testing.T) {
	dir := t.TempDir()
	cfg := config{
		broker: "embedded", keys: 1, n: 1, runs: 1, rate: 100, partitions: 4,
		scenarios: []string{"memory"}, checkpointInterval: 10 * time.Second,
		memoryKeys: []int{20_000}, memorySizes: []string{"64MiB", "128MiB"},
		out: filepath.Join(dir, "memory.md"), raw: filepath.Join(dir, "memory-runs.json"),
		command: "cd bench && go test ./cluster", timeout: 3 * time.Minute,
		logf: func(format string, args ...any) { t.Logf(strings.TrimSuffix(format, "\n"), args...) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	md, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.raw)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Memory memoryResult `json:"memory"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Memory.Runs) != 2 {
		t.Fatalf("%d runs, want 2:\n%s", len(raw.Memory.Runs), b)
	}
	for _, r := range raw.Memory.Runs {
		if r.Error != "" || r.PeakRSSMB <= 0 {
			t.Errorf("--memory %s: error %q, peak RSS %.0f MiB", r.Memory, r.Error, r.PeakRSSMB)
		}
		if want := float64((r.Bytes - min(48<<20, r.Bytes/2)) / 16 * 9); r.GoLimit != want {
			t.Errorf("--memory %s: the binary's GOMEMLIMIT is %.0f, want 9/16 of the budget past its fixed part, %.0f", r.Memory, r.GoLimit, want)
		}
	}
	if !strings.Contains(md, "| 20,000 | 64MiB |") || !strings.Contains(md, "| 20,000 | 128MiB |") {
		t.Errorf("the report lacks the rows:\n%s", md)
	}
}

// TestStandbyScenario runs the standby scenario small (20,000 keys, an
// embedded broker): with --standby-replicas 1 the victim's count tasks go to
// the replicas that kept their standbys, from local state; times are
// reported, never asserted.
func TestStandbyScenario(t *testing.T) {
	dir := t.TempDir()
	cfg := config{
		broker: "embedded", keys: 20_000, n: 1, runs: 1, rate: 1000, partitions: 4,
		scenarios: []string{"standby"}, checkpointInterval: 10 * time.Second,
		out: filepath.Join(dir, "standby.md"), raw: filepath.Join(dir, "standby-runs.json"),
		command: "cd bench && go test ./cluster", timeout: 4 * time.Minute,
		logf: func(format string, args ...any) { t.Logf(strings.TrimSuffix(format, "\n"), args...) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	md, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.raw)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Standby standbyResult `json:"standby"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Standby.Kills) != 2 {
		t.Fatalf("%d kills, want 2:\n%s", len(raw.Standby.Kills), b)
	}
	for _, k := range raw.Standby.Kills {
		if k.Standbys == 1 && !k.ToStandby {
			t.Errorf("with a standby, the count tasks went to %v, not to the standbys' replicas", k.NewOwners)
		}
		for task, from := range k.StateFrom {
			if k.Standbys == 1 && !strings.Contains(from, "kept by a standby") {
				t.Errorf("with a standby, %s restored from %q", task, from)
			}
		}
	}
	if !strings.Contains(md, "## Standby replicas") {
		t.Errorf("the report lacks the standby section:\n%s", md)
	}
}
