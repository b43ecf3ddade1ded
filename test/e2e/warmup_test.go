package e2e

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofka/streams/coordinator"
)

// Warm-ups for planned moves (Kafka Streams' KIP-441): when a replica joins,
// a counting task moved to it first gets a warm-up standby there, keeps
// running on its owner until the warm-up has caught up, and then starts on
// the new replica from the state the warm-up kept.

// TestWarmupScaleOut runs two replicas (no --standby-replicas) while clicks
// stream and the counts build up, then starts a third: every counting task
// that moves to it was warmed up first (in the assignment history: a warm-up
// placed on it, the task released from its owner only in a later epoch),
// starts from the warm-up's local state with a short replay, and the final
// counts equal an independent count, each click counted exactly once.
func TestWarmupScaleOut(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s", "--acceptable-recovery-lag", "1000")
	c.startScaled(0)
	c.everyTaskRunning(ctx, []int{0})
	c.startScaled(1)
	c.everyTaskRunning(ctx, []int{0, 1})

	clicks := makeClicks(0, 16000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100, gap: 25 * time.Millisecond})
	for produced.Load() < 6000 {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	joined := time.Now()
	c.startScaled(2)
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})
	t.Logf("r2 joined with %d clicks produced; every task runs on three replicas %s later: %v",
		produced.Load(), time.Since(joined).Round(time.Millisecond), owners)
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}

	warmed := checkWarmupHistory(ctx, t, c)
	log := c.procs[2].out.String()
	for _, task := range warmed {
		if owners[task] != 2 {
			t.Errorf("task %s was warmed up on r2 but runs on r%d", task, owners[task])
		}
		found := false
		for _, m := range standbyStartRE.FindAllStringSubmatch(log, -1) {
			if m[2] != task {
				continue
			}
			found = true
			replayed, _ := strconv.Atoi(m[4])
			t.Logf("r2 started %s: state from %q, %d changelog records replayed", task, m[3], replayed)
			if !regexp.MustCompile(`^local state.*kept by a standby`).MatchString(m[3]) {
				t.Errorf("task %s restored from %q, not from the warm-up's local state", task, m[3])
			}
			if replayed > 2000 {
				t.Errorf("task %s replayed %d changelog records: not a short tail", task, replayed)
			}
		}
		if !found {
			t.Errorf("r2 never logged starting %s:\n%s", task, grepLines(log, "task started"))
		}
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkExact(ctx, t, addr, clicks)
	checkNoOverlap(t, c.all, nil)
}

// checkWarmupHistory reads the leader's assignment history and returns the
// tasks warmed up on r2. Each must have been released from its owner only in
// an epoch after its warm-up was placed (it kept running meanwhile), and at
// least one must exist: r2's share includes a counting task.
func checkWarmupHistory(ctx context.Context, t *testing.T, c *cluster) []string {
	t.Helper()
	r2, err := c.fullStatusOf(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.leaderScaled(ctx, []int{0, 1, 2})
	st, err := c.fullStatusOf(ctx, leader)
	if err != nil {
		t.Fatal(err)
	}
	placed := map[string]uint64{}
	var warmed []string
	for _, ch := range st.Cluster.History {
		for _, mv := range ch.Moves {
			k := mv.Task.String()
			switch {
			case mv.Standby && mv.Warmup && mv.To == r2.Cluster.Addr:
				placed[k] = ch.Epoch
				warmed = append(warmed, k)
				t.Logf("epoch %d (%s): warm-up of %s placed on r2", ch.Epoch, ch.Reason, k)
			case !mv.Standby && mv.To == "" && mv.From != "" && placed[k] > 0:
				t.Logf("epoch %d (%s): %s released from its owner", ch.Epoch, ch.Reason, k)
				if ch.Epoch <= placed[k] {
					t.Errorf("task %s released at epoch %d, its warm-up placed at %d", k, ch.Epoch, placed[k])
				}
			}
		}
	}
	if len(warmed) == 0 {
		t.Fatalf("no warm-up was placed on r2 (%s); history:\n%s", r2.Cluster.Addr, historyText(st.Cluster.History))
	}
	slices.Sort(warmed)
	return slices.Compact(warmed)
}

func historyText(h []coordinator.AssignmentChange) string {
	var s string
	for _, ch := range h {
		s += strconv.FormatUint(ch.Epoch, 10) + " " + ch.Reason + ":"
		for _, mv := range ch.Moves {
			s += " " + mv.Task.String() + " " + mv.From + "→" + mv.To
			if mv.Warmup {
				s += " (warm-up)"
			} else if mv.Standby {
				s += " (standby)"
			}
		}
		s += "\n"
	}
	return s
}
