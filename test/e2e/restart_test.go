package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// processedOf reads how many input records replica i's current process has
// processed (its /status); -1 while it does not answer.
func (c *cluster) processedOf(ctx context.Context, i int) int64 {
	var st struct {
		Replica struct {
			Processed int64 `json:"records_processed"`
		} `json:"replica"`
	}
	if err := c.getJSON(ctx, i, &st); err != nil {
		return -1
	}
	return st.Replica.Processed
}

// waitProcessing waits until replica i's current process has processed a
// record, and returns how long after started that was.
func (c *cluster) waitProcessing(ctx context.Context, i int, started time.Time) time.Duration {
	c.t.Helper()
	var at time.Duration
	err := pollEvery(ctx, 10*time.Millisecond, fmt.Sprintf("r%d processes a record", i), func() (bool, error) {
		if c.procs[i].exited() {
			return false, fmt.Errorf("r%d exited: %v", i, c.procs[i].err)
		}
		if c.processedOf(ctx, i) > 0 {
			at = time.Since(started)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return at
}

// TestSIGTERMHandsOverAndRestartsQuickly stops a worker and then the leader
// of a three-replica group with SIGTERM while clicks stream, and starts each
// again on its state directory. A clean stop hands the replica's tasks over
// and leaves the group before the process exits: the others run its tasks
// without waiting for the failure timeout (the assignment history says the
// tasks moved because it left, not because it was declared dead). The
// restarted process processes records again within a second or so (asserted
// with a generous bound; the figures are logged). Nothing is lost and no task
// ever runs on two processes at once. Both with --peers and fixed Raft
// addresses, and with instances that find each other through the broker
// (each process on a new Raft port).
func TestSIGTERMHandsOverAndRestartsQuickly(t *testing.T) {
	for _, mode := range []string{"peers", "discovery"} {
		t.Run(mode, func(t *testing.T) { sigtermRestart(t, mode == "discovery") })
	}
}

func sigtermRestart(t *testing.T, discovered bool) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)

	// A long failure timeout makes waiting for it obvious.
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s", "--failure-timeout", "6s")
	startOne := c.start
	if discovered {
		startOne = c.startScaled
	}
	for i := range 3 {
		startOne(i)
	}
	c.everyTaskRunning(ctx, []int{0, 1, 2})

	clicks := makeClicks(0, 24000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100, gap: 25 * time.Millisecond})

	leader := c.leaderScaled(ctx, []int{0, 1, 2})
	for round, victim := range []int{(leader + 1) % 3, leader} {
		var others []int
		for j := range 3 {
			if j != victim {
				others = append(others, j)
			}
		}
		stoppedAt := time.Now()
		name := c.procs[victim].name
		if code, err := c.procs[victim].stop(ctx); err != nil || code != 0 {
			t.Fatalf("r%d: SIGTERM gave status %d, %v", victim, code, err)
		}
		exited := time.Since(stoppedAt)
		c.everyTaskRunning(ctx, others)
		takeover := time.Since(stoppedAt)
		st, err := c.fullStatusOf(ctx, others[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range st.Cluster.History {
			if strings.Contains(ch.Reason, "dead") && strings.Contains(ch.Reason, fmt.Sprintf("r%d", victim)) {
				t.Errorf("round %d: the stopped r%d was declared dead (%q): it did not leave cleanly", round, victim, ch.Reason)
			}
		}

		restartedAt := time.Now()
		startOne(victim)
		first := c.waitProcessing(ctx, victim, restartedAt)
		c.everyTaskRunning(ctx, []int{0, 1, 2})
		t.Logf("round %d: r%d (%s) exited %s after SIGTERM; the others ran all its tasks %s after SIGTERM; restarted, it processed a record %s after its start (all tasks balanced again %s after)",
			round, victim, name, exited.Round(time.Millisecond), takeover.Round(time.Millisecond), first.Round(time.Millisecond), time.Since(restartedAt).Round(time.Millisecond))
		if takeover > 5*time.Second {
			t.Errorf("round %d: the others took %s to run the stopped replica's tasks; a clean stop should not wait for the 6s failure timeout", round, takeover)
		}
		if first > 5*time.Second {
			t.Errorf("round %d: the restarted replica processed its first record %s after its start", round, first)
		}
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, nil)
}

// TestSingleReplicaRestartIsQuick restarts a single replica (no --peers, the
// Raft port chosen at start-up, so each process has a new address) while
// clicks stream: after SIGTERM, and after SIGKILL. Its earlier self is known
// to be gone (it held the same state directory), so the restarted process
// gets its tasks back at once instead of after the failure timeout.
func TestSingleReplicaRestartIsQuick(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 1)
	c.raft = nil // a single replica: no --peers, --raft-addr 127.0.0.1:0
	stateDir := c.dirs[0]
	startOne := func() time.Time {
		c.starts++
		at := time.Now()
		p := startApp(t, fmt.Sprintf("r0#%d", c.starts), addr, stateDir, "--replica-id", "r0", "--status-addr", c.status[0],
			"--failure-timeout", "6s", "--snapshots", c.snapshots, "--log-level", "debug")
		c.procs[0] = p
		c.all = append(c.all, p)
		return at
	}
	clicks := makeClicks(0, 24000) // about 12 s of input: still arriving at each restart
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 50, gap: 25 * time.Millisecond})
	at := startOne()
	c.waitProcessing(ctx, 0, at)
	var ends []procEnd
	for _, how := range []string{"SIGTERM", "SIGKILL"} {
		time.Sleep(time.Second)
		p := c.procs[0]
		if how == "SIGTERM" {
			if code, err := p.stop(ctx); err != nil || code != 0 {
				t.Fatalf("SIGTERM gave status %d, %v", code, err)
			}
		} else {
			c.kill(0)
			ends = append(ends, procEnd{p.name, time.Now()})
		}
		at := startOne()
		first := c.waitProcessing(ctx, 0, at)
		t.Logf("after %s: the restarted single replica processed a record %s after its start", how, first.Round(time.Millisecond))
		if first > 5*time.Second {
			t.Errorf("after %s: the restarted single replica processed its first record %s after its start (failure timeout 6s)", how, first)
		}
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, ends)
}
