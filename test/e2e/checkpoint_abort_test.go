package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gofka/streams/state/snapshot"
)

// A replica whose part of a checkpoint fails (its snapshot upload or its
// manifest write, by a test hook of runtime/engine/faults.go) reports it at
// once, and the coordinator aborts the checkpoint "by replica" rather than on
// its timeout (30 s at least): the next checkpoint completes in the same
// process, nothing of the failed snapshot can be restored (it has no
// manifest), and the results are exact, under both guarantees.

// abortStatus is what this test reads of /status: the checkpoint log with
// who aborted what and why.
type abortStatus struct {
	Cluster struct {
		Checkpoints []struct {
			ID         uint64 `json:"id"`
			State      string `json:"state"`
			Reason     string `json:"reason"`
			AbortedBy  string `json:"aborted_by"`
			FailedTask string `json:"failed_task"`
		} `json:"checkpoints"`
	} `json:"cluster"`
}

func TestCheckpointAbortedByReplica(t *testing.T) {
	for _, g := range []struct {
		name  string
		flags []string
	}{{"at-least-once", nil}, {"exactly-once", eosFlag}} {
		for _, f := range []struct{ phase, env string }{
			{"upload", "GOFKA_TEST_FAULT_UPLOAD"},
			{"manifest", "GOFKA_TEST_FAULT_MANIFEST"},
		} {
			t.Run(g.name+"/"+f.phase, func(t *testing.T) { checkpointAbortedByReplica(t, g.flags, f.env) })
		}
	}
}

func checkpointAbortedByReplica(t *testing.T, guarantee []string, env string) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 1, append([]string{"--checkpoint-interval", "1s", "--voters", "1"}, guarantee...)...)
	eos := len(guarantee) > 0
	out := newTail(t, addr, outputTopic)
	if eos {
		out = committedTail(t, addr)
	}
	clicks := makeClicks(0, 4000)

	t.Setenv(env, "1")
	p := c.start(0)
	produce(ctx, t, cl, clicks[:2000])
	if err := p.waitLog(ctx, `msg="checkpoint aborted"`); err != nil {
		t.Fatalf("the injected fault did not abort a checkpoint: %v\n%s", err, grepLines(p.out.String(), "checkpoint"))
	}

	// The coordinator's log says who aborted it and why.
	var aborted uint64
	var task string
	if err := poll(ctx, "an aborted checkpoint in /status", func() (bool, error) {
		var st abortStatus
		if err := c.getJSON(ctx, 0, &st); err != nil {
			return false, nil
		}
		for _, cp := range st.Cluster.Checkpoints {
			if cp.State != "aborted" {
				continue
			}
			if cp.AbortedBy == "" || strings.Contains(cp.Reason, "timed out") || !strings.Contains(cp.Reason, "aborted by replica") ||
				!strings.Contains(cp.Reason, "fault injected by "+env) || cp.FailedTask == "" {
				return false, fmt.Errorf("checkpoint %d aborted, but not by the replica's report of %s: %+v", cp.ID, env, cp)
			}
			aborted, task = cp.ID, cp.FailedTask
			return true, nil
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("checkpoint %d aborted by the replica: task %s", aborted, task)
	if _, metrics := c.get(ctx, 0, "/metrics"); !strings.Contains(metrics, `gofka_checkpoint_parts_failed_total{phase="upload"} 1`) {
		t.Errorf("/metrics does not count the failed part:\n%s", grepLines(metrics, "gofka_checkpoint"))
	}

	// A later checkpoint completes in the same process.
	c.waitStatus(ctx, 0, "a checkpoint after the aborted one completes", func(st replicaStatus) bool { return lastComplete(st) > aborted })
	if c.starts != 1 || p.exited() {
		t.Fatalf("the replica was restarted or exited (%d starts)", c.starts)
	}

	// The failed part left no manifest: nothing of it can be restored.
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
			t.Errorf("task %s has a manifest for checkpoint %d, whose upload failed: %s", task, aborted, s.Ref)
		}
	}

	produce(ctx, t, cl, clicks[2000:])
	waitCounts(ctx, t, out, clicks)
	stopClean(ctx, t, p)
	// Without a crash at-least-once is exact too; its records, outside any
	// transaction, are all visible to read_committed.
	checkExactlyOnce(ctx, t, addr, clicks)
}
