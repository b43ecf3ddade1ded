package main

import (
	"context"
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
