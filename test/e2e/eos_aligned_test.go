package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/gofka/streams/state/snapshot"
)

// TestExactlyOnceAlignedCommitFails commits only at checkpoints
// (--commit-interval 1h --checkpoint-interval 1s), so every transaction is
// the commit of a task aligned for a checkpoint: it finishes off the loop, and
// the task's RocksDB checkpoint is taken when it has settled
// (runtime/engine/checkpoint.go). One task's third commit fails
// (GOFKA_TEST_ABORT_COMMIT, before EndTxn):
//
//   - 1_2 reads the repartition topic: its part of that checkpoint is aborted
//     at once, it has no manifest of that checkpoint, and a later one
//     completes in the same process;
//   - 0_2 reads a user topic only: it is rolled back, aligned again at its
//     committed offsets, and a later checkpoint completes.
//
// The replica is then killed (SIGKILL) and started again: its stateful tasks
// start from snapshots and the committed changelog tail, count more clicks on
// from there, and the committed output is exact, so no snapshot held state of
// a transaction that did not commit.
func TestExactlyOnceAlignedCommitFails(t *testing.T) {
	for _, task := range []string{"1_2", "0_2"} {
		t.Run(task, func(t *testing.T) { alignedCommitFails(t, task) })
	}
}

func alignedCommitFails(t *testing.T, task string) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 1, append([]string{"--voters", "1", "--commit-interval", "1h", "--checkpoint-interval", "1s"}, eosFlag...)...)
	out := committedTail(t, addr)
	t.Setenv("GOFKA_TEST_ABORT_COMMIT", "3")
	t.Setenv("GOFKA_TEST_FAULT_TASK", task)
	p := c.start(0)
	clicks := streamUntilLogged(ctx, t, cl, p, "rolled back one task", 30_000)
	if log := p.out.String(); strings.Contains(log, "dropped every task") {
		t.Fatalf("the replica dropped every task:\n%s", grepLines(log, "dropped every task"))
	}

	// Which checkpoint the failed commit belonged to, by the coordinator's log.
	var aborted, after uint64
	if err := poll(ctx, "a checkpoint complete after the rollback", func() (bool, error) {
		var st abortStatus
		if err := c.getJSON(ctx, 0, &st); err != nil {
			return false, nil
		}
		for _, cp := range st.Cluster.Checkpoints {
			if cp.State == "aborted" && cp.FailedTask == task && aborted == 0 {
				aborted = cp.ID
			}
		}
		full, err := c.statusOf(ctx, 0)
		if err != nil {
			return false, nil
		}
		after = lastComplete(full)
		return task == "0_2" || (aborted > 0 && after > aborted), nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("task %s: checkpoint aborted for it: %d; newest complete: %d", task, aborted, after)
	if task == "1_2" {
		store, err := snapshot.Open(ctx, c.snapshots, snapshot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		snaps, err := snapshot.ListComplete(ctx, store, group, task)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			if s.Checkpoint == aborted {
				t.Errorf("task %s has a manifest for checkpoint %d, whose commit failed: %s", task, aborted, s.Ref)
			}
		}
	}
	c.waitStatus(ctx, 0, "a checkpoint completes after the rollback", func(st replicaStatus) bool { return lastComplete(st) > after })

	c.kill(0)
	t.Setenv("GOFKA_TEST_ABORT_COMMIT", "") // the restart commits without faults
	p2 := c.start(0)
	// More clicks, counted on from the restored state.
	more := makeClicks(len(clicks), 2000)
	produce(ctx, t, cl, more)
	clicks = append(clicks, more...)
	waitCounts(ctx, t, out, clicks)
	from, _, _ := startedFrom(t, p2.out.String())
	snapshots := 0
	for k, f := range from {
		if strings.HasPrefix(f, "local state") {
			t.Errorf("task %s restarted from its local state after SIGKILL", k)
		}
		if strings.HasPrefix(f, "snapshot") {
			snapshots++
		}
	}
	if snapshots == 0 {
		t.Errorf("no task restarted from a snapshot:\n%s", grepLines(p2.out.String(), "task started"))
	}
	waitConsumedAll(ctx, t, adm)
	stopClean(ctx, t, p2)
	checkNoOpenTxn(ctx, t, adm)
	checkExactlyOnce(ctx, t, addr, clicks)
}
