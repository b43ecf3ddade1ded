package coordinator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A replica whose part of a checkpoint failed aborts it at once
// (AbortCheckpoint → opCkptAbort with Addr and Task): the FSM's checks, and
// the leader's behaviour end to end.

func TestFSMReplicaAbort(t *testing.T) {
	tasks := testTasks(2)
	a := &applier{t: t, f: newFSM(tasks, 2)}
	a.ok(command{Op: opJoin, Addr: "a:1"})
	a.ok(command{Op: opJoin, Addr: "b:1"})
	a.ok(command{Op: opAssign, BaseEpoch: 0, Moves: []TaskMove{{Task: tasks[0], To: "a:1"}, {Task: tasks[1], To: "b:1"}}})
	id := a.ok(command{Op: opCkptStart, BaseEpoch: 1, Expected: tasks}).Checkpoint
	a.ok(command{Op: opCkptAck, Addr: "a:1", Checkpoint: id, Task: tasks[0], Ack: CheckpointAck{ManifestRef: "m"}})

	abort := func(addr string, cp uint64, task TaskID) command {
		return command{Op: opCkptAbort, Addr: addr, Checkpoint: cp, Task: task, Reason: "upload: disk full"}
	}
	for what, c := range map[string]command{
		"by a replica that does not own the task":  abort("a:1", id, tasks[1]),
		"of an unknown checkpoint":                 abort("b:1", id+1, tasks[1]),
		"of a task the checkpoint does not expect": abort("b:1", id, TaskID{SubTopology: 9}),
	} {
		if res := a.do(c); res.Err == nil {
			t.Errorf("abort %s applied; want it rejected", what)
		}
	}
	if cp := a.f.checkpoints()[0]; cp.State != CheckpointInProgress {
		t.Fatalf("a rejected abort changed the checkpoint: %+v", cp)
	}

	var eff effects
	a.f.notify = func(e effects) { eff = e }
	a.ok(abort("b:1", id, tasks[1]))
	cp := a.f.checkpoints()[0]
	if cp.State != CheckpointAborted || cp.AbortedBy != "b:1" || cp.FailedTask != tasks[1].String() || cp.Finished.IsZero() {
		t.Errorf("after the abort: %+v", cp)
	}
	if !strings.Contains(cp.Reason, "aborted by replica b:1") || !strings.Contains(cp.Reason, "upload: disk full") {
		t.Errorf("abort reason %q", cp.Reason)
	}
	if len(eff.finished) != 1 || eff.finished[0].ID != id || eff.finished[0].State != CheckpointAborted {
		t.Errorf("the abort's effects: %+v, want checkpoint %d finished aborted", eff.finished, id)
	}
	// A retried abort (the first reached the log, its answer did not) is
	// taken again; anything else about a finished checkpoint is refused.
	a.ok(abort("b:1", id, tasks[1]))
	if res := a.do(abort("a:1", id, tasks[0])); res.Err == nil {
		t.Error("a second replica's abort of an aborted checkpoint applied")
	}
	if res := a.do(command{Op: opCkptAck, Addr: "b:1", Checkpoint: id, Task: tasks[1], Ack: CheckpointAck{ManifestRef: "late"}}); res.Err == nil {
		t.Error("an ack of the aborted checkpoint applied")
	}
	if got := a.f.checkpoints()[0]; got.State != CheckpointAborted || got.AbortedBy != "b:1" {
		t.Errorf("the aborted checkpoint changed: %+v", got)
	}
	// The next checkpoint starts and completes; a complete one cannot be
	// aborted by a replica.
	id2 := a.ok(command{Op: opCkptStart, BaseEpoch: 1, Expected: tasks}).Checkpoint
	a.ok(command{Op: opCkptAck, Addr: "a:1", Checkpoint: id2, Task: tasks[0], Ack: CheckpointAck{ManifestRef: "m2"}})
	a.ok(command{Op: opCkptAck, Addr: "b:1", Checkpoint: id2, Task: tasks[1], Ack: CheckpointAck{ManifestRef: "m2"}})
	if res := a.do(abort("b:1", id2, tasks[1])); res.Err == nil {
		t.Error("an abort of a complete checkpoint applied")
	}
	if lc := a.f.checkpoints(); lc[1].State != CheckpointComplete {
		t.Errorf("checkpoint %d: %+v", id2, lc[1])
	}
}

// TestReplicaAbortsCheckpoint: on a 3-replica group the owner of a task
// aborts the checkpoint in flight, long before its timeout; every replica's
// engine sees it finished (aborted), late acks are refused, a non-owner's
// abort is refused, and the next checkpoint starts on the interval timer and
// completes.
func TestReplicaAbortsCheckpoint(t *testing.T) {
	c := newCluster(t, 3, 6, func(cfg *Config) {
		cfg.CheckpointInterval = 200 * time.Millisecond
		cfg.CheckpointTimeout = time.Hour // only the replica's abort can end it
	})
	for _, n := range c.nodes {
		n.eng.setNoAcks(true)
	}
	c.waitReady()
	c.settled(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var id uint64
	waitFor(t, "a checkpoint in flight", func() bool {
		cps := c.nodes[0].Checkpoints()
		if len(cps) > 0 && cps[len(cps)-1].State == CheckpointInProgress {
			id = cps[len(cps)-1].ID
			return true
		}
		return false
	})
	task := c.nodes[1].Mine()[0]
	if err := c.nodes[2].AbortCheckpoint(ctx, id, task, "not mine"); !errors.Is(err, ErrCheckpointRejected) {
		t.Errorf("abort by a non-owner: %v, want ErrCheckpointRejected", err)
	}
	if err := c.nodes[1].AbortCheckpoint(ctx, id, task, "snapshot upload: fault"); err != nil {
		t.Fatalf("abort by the owner: %v", err)
	}
	cp := waitCheckpoint(t, c.nodes[2], id, CheckpointAborted)
	if cp.AbortedBy != c.nodes[1].addr || cp.FailedTask != task.String() || !strings.Contains(cp.Reason, "snapshot upload: fault") {
		t.Errorf("aborted checkpoint %+v, want aborted by %s for task %s", cp, c.nodes[1].addr, task)
	}
	if st := c.leader().Status(); st.Checkpoints[len(st.Checkpoints)-1].AbortedBy != c.nodes[1].addr {
		t.Errorf("the leader's status does not show who aborted: %+v", st.Checkpoints)
	}
	waitFor(t, "the engines to see the abort", func() bool {
		for _, n := range c.nodes {
			if complete, ok := n.eng.finishedOf(id); !ok || complete {
				return false
			}
		}
		return true
	})
	other := c.nodes[0].Mine()[0]
	if err := c.nodes[0].AckCheckpoint(ctx, id, other, CheckpointAck{ManifestRef: "late"}); !errors.Is(err, ErrCheckpointRejected) {
		t.Errorf("ack after the abort: %v, want ErrCheckpointRejected", err)
	}

	// The interval timer goes on: with acks back on, the next checkpoint
	// (started by the leader, not forced) completes.
	for _, n := range c.nodes {
		n.eng.setNoAcks(false)
	}
	waitCheckpoint(t, c.nodes[0], id+1, CheckpointComplete)
}
