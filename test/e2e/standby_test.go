package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Standby replicas (--standby-replicas): a replica keeps a warm copy of a task
// it does not own by tailing the task's changelog; when the owner dies, the
// leader gives the task to that replica, which restores from its local state
// and replays only a short tail.

// standbyStatus is what the standby tests read of GET /status.
type standbyStatus struct {
	Replica struct {
		Standbys []struct {
			Task string `json:"task"`
			Lag  int64  `json:"lag"`
		} `json:"standbys"`
	} `json:"replica"`
	Cluster struct {
		Standby map[string][]string `json:"standby"`
	} `json:"cluster"`
}

// standbyLag is replica i's reported lag of its standby of task (-1: none,
// or not known yet).
func (c *cluster) standbyLag(ctx context.Context, i int, task string) int64 {
	var st standbyStatus
	if err := c.getJSON(ctx, i, &st); err != nil {
		return -1
	}
	for _, s := range st.Replica.Standbys {
		if s.Task == task {
			return s.Lag
		}
	}
	return -1
}

var standbyStartRE = regexp.MustCompile(`(?m)^time=(\S+) .*?msg="task started" .*?task=(\S+) state_from="([^"]*)" changelog_records_replayed=(\d+)`)

func TestStandbyTakesOverFromLocalState(t *testing.T) {
	for _, guarantee := range []string{"at-least-once", "exactly-once"} {
		t.Run(guarantee, func(t *testing.T) { testStandbyTakeover(t, guarantee) })
	}
}

// testStandbyTakeover runs three replicas of click-count with a standby per
// counting task, SIGKILLs a replica that owns one mid-stream, and checks that
// the replica that kept the standby takes the task over, from its local state
// with a short replay, and that no click is lost (exactly-once: the committed
// counts equal an independent count).
func testStandbyTakeover(t *testing.T, guarantee string) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s", "--standby-replicas", "1", "--guarantee", guarantee)
	c.startAll()
	alive := []int{0, 1, 2}
	owners := c.everyTaskRunning(ctx, alive)

	const total = 16000
	clicks := makeClicks(0, total)
	out := newTail(t, addr, outputTopic)
	if guarantee == "exactly-once" {
		out = committedTail(t, addr)
	}
	var produced atomic.Int64
	resume := make(chan struct{})
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 200, pauses: map[int]<-chan struct{}{total / 2: resume}})
	if err := out.until(ctx, "output appears", func(cs *counts) bool { return cs.records > 1000 }); err != nil {
		t.Fatal(err)
	}

	// Every counting task has its standby on another replica.
	var standby map[string][]string
	leader := c.leader(ctx, alive)
	err := poll(ctx, "every counting task has a standby", func() (bool, error) {
		var st standbyStatus
		if err := c.getJSON(ctx, leader, &st); err != nil {
			return false, nil
		}
		standby = st.Cluster.Standby
		if len(standby) != partitions {
			return false, nil
		}
		for task, ss := range standby {
			if len(ss) != 1 || ss[0] == c.raft[owners[task]] {
				return false, fmt.Errorf("task %s (owner r%d) has standbys %v", task, owners[task], ss)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The victim: a replica other than the leader that owns a counting task;
	// its first such task (the plan hands tasks over in order) is the one
	// watched.
	victim, task := -1, ""
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range standby {
			if !yield(k) {
				return
			}
		}
	}) {
		if o := owners[k]; o != leader {
			victim, task = o, k
			break
		}
	}
	if victim < 0 {
		t.Fatalf("the leader r%d owns every counting task: %v", leader, owners)
	}
	keeper := slices.Index(c.raft, standby[task][0])
	if err := poll(ctx, "the standby is caught up", func() (bool, error) {
		lag := c.standbyLag(ctx, keeper, task)
		return lag >= 0 && lag <= 1000, nil
	}); err != nil {
		t.Fatal(err)
	}
	killedAt, killed := time.Now(), c.procs[victim]
	c.kill(victim)
	close(resume)
	t.Logf("SIGKILLed r%d, owner of %s, with %d clicks produced; r%d keeps its standby; the leader is r%d", victim, task, produced.Load(), keeper, leader)

	rest := slices.DeleteFunc(slices.Clone(alive), func(i int) bool { return i == victim })
	after := c.everyTaskRunning(ctx, rest)
	t.Logf("every task running again %s after the kill: %v", time.Since(killedAt).Round(time.Millisecond), after)
	if after[task] != keeper {
		t.Errorf("task %s went to r%d, not to r%d, which kept its standby", task, after[task], keeper)
	}
	found := false
	for _, m := range standbyStartRE.FindAllStringSubmatch(c.procs[keeper].out.String(), -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if m[2] != task || err != nil || at.Before(killedAt) {
			continue // it may have run there before the assignment settled
		}
		found = true
		replayed, _ := strconv.Atoi(m[4])
		t.Logf("r%d started %s %s after the kill: state from %q, %d changelog records replayed", keeper, task, at.Sub(killedAt).Round(time.Millisecond), m[3], replayed)
		if !regexp.MustCompile(`^local state.*kept by a standby`).MatchString(m[3]) {
			t.Errorf("task %s restored from %q, not from the standby's local state", task, m[3])
		}
		if replayed > 2000 {
			t.Errorf("task %s replayed %d changelog records: not a short tail", task, replayed)
		}
	}
	if !found {
		t.Errorf("r%d never logged starting %s after the kill:\n%s", keeper, task, grepLines(c.procs[keeper].out.String(), "task started"))
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	if guarantee == "exactly-once" {
		var procs []*proc
		for _, i := range rest {
			procs = append(procs, c.procs[i])
		}
		settleExactlyOnce(ctx, t, addr, adm, out, procs, clicks)
	} else {
		checkComplete(ctx, t, addr, adm, clicks)
	}
	checkNoOverlap(t, c.all, []procEnd{{killed.name, killedAt}})
}
