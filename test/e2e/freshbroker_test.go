package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOldStateAgainstFreshBroker: a replica whose state directory (local
// RocksDB, Raft log with its checkpoint history) and snapshots come from an
// earlier broker is started against a fresh one. Every stateful task passes
// over its local state and the snapshots taken after it counted (their
// changelog offsets lie beyond the new, empty changelogs; they are not even
// downloaded), restores from what is left (a snapshot of the empty state taken
// before any input, or the changelog), and the log says so in one line per
// task, not one per source tried.
func TestOldStateAgainstFreshBroker(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 1, "--checkpoint-interval", "1s", "--voters", "1")
	c.start(0)
	clicks := makeClicks(0, 4000)
	produce(ctx, t, cl, clicks)
	checkComplete(ctx, t, addr, adm, clicks)
	st, err := c.statusOf(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	counted := lastComplete(st) // perhaps before every count: wait for a later one
	c.waitStatus(ctx, 0, "a checkpoint complete after the input was counted", func(st replicaStatus) bool {
		return lastComplete(st) > counted+1
	})
	if code, err := c.procs[0].stop(ctx); err != nil || code != 0 {
		t.Fatalf("SIGTERM: status %d, %v", code, err)
	}

	c.broker, _, _ = clickCountBroker(ctx, t)
	p := c.start(0)
	c.everyTaskRunning(ctx, []int{0})
	if code, err := p.stop(ctx); err != nil || code != 0 {
		t.Fatalf("SIGTERM after the restart: status %d, %v", code, err)
	}
	log := p.out.String()
	if strings.Contains(log, "snapshot unusable") {
		t.Errorf("a snapshot was reported unusable (downloaded?) though the changelogs rule it out:\n%s", grepLines(log, "snapshot unusable"))
	}
	passed := regexp.MustCompile(`msg="state not usable; restored from an older source" .*?task=(\S+) passed_over=(\d+) `)
	lines := map[string]int{}
	for _, m := range passed.FindAllStringSubmatch(log, -1) {
		lines[m[1]]++
		// The local state and at least the newest snapshot, taken after the input was counted.
		if n, _ := strconv.Atoi(m[2]); n < 2 {
			t.Errorf("task %s passed over %d sources, want at least 2 (local state and a snapshot)", m[1], n)
		}
	}
	for p := range partitions {
		task := fmt.Sprintf("1_%d", p)
		if lines[task] != 1 {
			t.Errorf("task %s: %d lines saying which state sources were passed over, want 1:\n%s", task, lines[task], grepLines(log, "state not usable"))
		}
	}
	if n := strings.Count(log, "msg=\"state not usable"); n != partitions {
		t.Errorf("%d 'state not usable' lines, want %d (one per stateful task)", n, partitions)
	}
}
