package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCheckpointsOnIntervalRetainLastK(t *testing.T) {
	c := newCluster(t, 3, 6, func(cfg *Config) {
		cfg.CheckpointInterval = 200 * time.Millisecond
		cfg.KeepCheckpoints = 2
	})
	c.waitReady()
	l := c.leader()
	c.settled(nil)
	waitFor(t, "4 complete checkpoints", func() bool {
		n := 0
		for _, cp := range l.Checkpoints() {
			if cp.State == CheckpointComplete {
				n++
			}
		}
		return n >= 4
	})
	hist := l.fsm.history(maxAssignmentHistory)
	ownersAt := func(epoch uint64) map[TaskID]string {
		o := map[TaskID]string{}
		for _, ch := range hist {
			if ch.Epoch > epoch {
				break
			}
			for _, mv := range ch.Moves {
				o[mv.Task] = mv.To
			}
		}
		return o
	}
	var complete []Checkpoint
	for _, cp := range c.nodes[1].Checkpoints() { // any replica has the log
		if cp.State != CheckpointComplete {
			continue
		}
		complete = append(complete, cp)
		if len(cp.Acks) != len(c.tasks) {
			t.Errorf("checkpoint %d complete with %d acks for %d tasks", cp.ID, len(cp.Acks), len(c.tasks))
		}
		owners := ownersAt(cp.Epoch)
		for task, ack := range cp.Acks {
			owner := c.byAddr(ack.Replica)
			if owner == nil || !strings.HasPrefix(ack.ManifestRef, owner.name+"/") || ack.Replica != owners[mustParse(t, task)] {
				t.Errorf("checkpoint %d (epoch %d) task %s: ack %+v is not from the owner %s", cp.ID, cp.Epoch, task, ack, owners[mustParse(t, task)])
			}
		}
	}
	for i, cp := range complete {
		wantRetained := i >= len(complete)-2
		if cp.Retained() != wantRetained {
			t.Errorf("checkpoint %d (complete #%d of %d): retained %v, want %v", cp.ID, i+1, len(complete), cp.Retained(), wantRetained)
		}
	}
	// LatestComplete: newest first, only retained ones.
	task := c.tasks[3]
	lc := c.nodes[2].LatestComplete(task)
	if len(lc) != 2 {
		t.Fatalf("LatestComplete(%s) = %+v, want 2 entries", task, lc)
	}
	if lc[0].ID <= lc[1].ID || lc[0].ManifestRef != fmt.Sprintf("%s/%d/%s", c.byAddr(lc[0].Replica).name, lc[0].ID, task) {
		t.Errorf("LatestComplete(%s) = %+v", task, lc)
	}
	// Every replica's engine saw starts and finishes.
	waitFor(t, "every engine to see the checkpoint complete", func() bool {
		for _, n := range c.nodes {
			if complete, ok := n.eng.finishedOf(lc[0].ID); !ok || !complete {
				return false
			}
		}
		return true
	})
}

func TestCheckpointAborts(t *testing.T) {
	c := newCluster(t, 3, 6, func(cfg *Config) {
		cfg.CheckpointInterval = 0
		cfg.CheckpointTimeout = time.Second
	})
	c.waitReady()
	c.settled(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()

	// A checkpoint whose acks do not all come is aborted after the timeout.
	for _, n := range c.nodes {
		n.eng.setNoAcks(true)
	}
	id, err := c.nodes[1].ForceCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.nodes[2].ForceCheckpoint(ctx); err == nil {
		t.Error("a second checkpoint started while one is in flight")
	}
	cp := waitCheckpoint(t, c.nodes[0], id, CheckpointAborted)
	if !strings.Contains(cp.Reason, "timed out") {
		t.Errorf("abort reason %q", cp.Reason)
	}
	// A late ack is refused.
	task := c.nodes[0].Mine()[0]
	err = c.nodes[0].AckCheckpoint(ctx, id, task, CheckpointAck{ManifestRef: "late"})
	if !errors.Is(err, ErrCheckpointRejected) {
		t.Errorf("late ack: %v, want ErrCheckpointRejected", err)
	}
	// An ack for a task of another replica is refused.
	id2, err := c.nodes[0].ForceCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[1].AckCheckpoint(ctx, id2, task, CheckpointAck{ManifestRef: "not mine"}); !errors.Is(err, ErrCheckpointRejected) {
		t.Errorf("ack by a non-owner: %v, want ErrCheckpointRejected", err)
	}
	// The owner's ack is taken, and a retried one too.
	for range 2 {
		if err := c.nodes[0].AckCheckpoint(ctx, id2, task, CheckpointAck{ManifestRef: "mine"}); err != nil {
			t.Errorf("ack by the owner: %v", err)
		}
	}

	// A change of assignment aborts the checkpoint in flight.
	c.add("n4")
	cp = waitCheckpoint(t, c.nodes[0], id2, CheckpointAborted)
	if !strings.Contains(cp.Reason, "assignment changed") {
		t.Errorf("abort reason %q", cp.Reason)
	}
	waitFor(t, "the engines to see the abort", func() bool {
		for _, n := range c.nodes {
			if complete, ok := n.eng.finishedOf(id2); !ok || complete {
				return false
			}
		}
		return true
	})

	// With acks back on, a forced checkpoint completes.
	c.settled(func(counts map[string]int) bool { return len(counts) == 4 })
	for _, n := range c.nodes {
		n.eng.setNoAcks(false)
	}
	id3, err := c.nodes[3].ForceCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, c.nodes[3], id3, CheckpointComplete)
}

func waitCheckpoint(t *testing.T, n *testNode, id uint64, state CheckpointState) Checkpoint {
	t.Helper()
	var got Checkpoint
	waitFor(t, fmt.Sprintf("checkpoint %d %s", id, state), func() bool {
		for _, cp := range n.Checkpoints() {
			if cp.ID == id && cp.State == state {
				got = cp
				return true
			}
		}
		return false
	})
	return got
}

func mustParse(t *testing.T, s string) TaskID {
	t.Helper()
	id, err := ParseTaskID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
