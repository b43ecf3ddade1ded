package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Exactly-once recovery that touches as little as it can: a failed
// transactional commit rolls back the one task it belongs to while the others
// keep their state and keep running; a task closed cleanly (SIGTERM) leaves a
// marker on its local state and starts from it, where a crash (SIGKILL)
// leaves none and the state is wiped and restored (runtime/engine/rollback.go
// and marker.go).

// taskCounts is what the tests read of a task in GET /status.
type taskCounts struct {
	Task      string `json:"task"`
	StateFrom string `json:"state_from"`
	Starts    int    `json:"starts"`
	Rollbacks int    `json:"rollbacks"`
}

func (c *cluster) taskCountsOf(ctx context.Context, i int) ([]taskCounts, error) {
	var st struct {
		Replica struct {
			Tasks []taskCounts `json:"tasks"`
		} `json:"replica"`
	}
	err := c.getJSON(ctx, i, &st)
	return st.Replica.Tasks, err
}

// TestExactlyOnceRollbackOneTask fails one transactional commit (a test hook:
// before EndTxn, or an EndTxn that times out; of any task, or of a counting
// task with state) on a single replica running all 8 tasks: only the task
// whose transaction failed is dropped and restored (its /status shows 2
// starts and 1 rollback, every other task 1 start and none, and the log has
// no replica-wide drop), and the committed output is exact.
func TestExactlyOnceRollbackOneTask(t *testing.T) {
	for _, tc := range []struct{ env, task string }{
		{"GOFKA_TEST_ABORT_COMMIT", ""},
		{"GOFKA_TEST_ABORT_COMMIT", "1_2"},
		{"GOFKA_TEST_ENDTXN_TIMEOUT", "1_1"},
	} {
		t.Run(tc.env+"_"+tc.task, func(t *testing.T) {
			ctx := testContext(t, 90*time.Second)
			addr, cl, _ := clickCountBroker(ctx, t)
			c := newCluster(t, addr, 1, append([]string{"--voters", "1", "--checkpoint-interval", "1s"}, eosFlag...)...)
			out := committedTail(t, addr)
			t.Setenv(tc.env, "3")
			t.Setenv("GOFKA_TEST_FAULT_TASK", tc.task)
			p := c.start(0)
			// Input keeps arriving (100 clicks every 100 ms) until the fault
			// was met and for a second after, so that the failing task
			// commits records at least three times however the replica
			// batches what it fetched (a slow start on a loaded machine
			// leaves a backlog that is processed in few commits).
			clicks := streamUntilLogged(ctx, t, cl, p, "rolled back one task", 30_000)
			waitCounts(ctx, t, out, clicks)
			tasks, err := c.taskCountsOf(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			rolledBack := 0
			for _, tk := range tasks {
				switch {
				case tk.Rollbacks == 1 && tk.Starts == 2:
					rolledBack++
					t.Logf("task %s rolled back and restarted; state from %s", tk.Task, tk.StateFrom)
					if tc.task != "" && tk.Task != tc.task {
						t.Errorf("task %s was rolled back, not %s whose commit failed", tk.Task, tc.task)
					}
					if strings.HasPrefix(tk.StateFrom, "local state") {
						t.Errorf("the rolled-back task %s restarted from its local state", tk.Task)
					}
				case tk.Rollbacks != 0 || tk.Starts != 1:
					t.Errorf("task %s: %d starts, %d rollbacks; want 1 and 0 (it was not the failing task)", tk.Task, tk.Starts, tk.Rollbacks)
				}
			}
			if len(tasks) != 2*partitions || rolledBack != 1 {
				t.Errorf("%d tasks, %d of them rolled back; want %d and 1:\n%s", len(tasks), rolledBack, 2*partitions, grepLines(p.out.String(), "task started"))
			}
			if log := p.out.String(); strings.Contains(log, "dropped every task") {
				t.Errorf("the replica dropped every task:\n%s", grepLines(log, "dropped every task"))
			}
			stopClean(ctx, t, p)
			checkExactlyOnce(ctx, t, addr, clicks)
		})
	}
}

// streamUntilLogged produces clicks 100 at a time every 100 ms until p has
// logged line and ten chunks more were produced, and returns the clicks
// produced. It fails the test when max clicks were produced first.
func streamUntilLogged(ctx context.Context, t *testing.T, cl *kgo.Client, p *proc, line string, max int) []inClick {
	t.Helper()
	clicks := makeClicks(0, max)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	after := -1 // chunks produced since line was logged
	for i := 0; i < max; i += 100 {
		if err := produceClicks(ctx, cl, clicks[i:i+100]); err != nil {
			t.Fatal(err)
		}
		if after < 0 && strings.Contains(p.out.String(), line) {
			after = 0
		}
		if after >= 0 {
			if after++; after == 10 {
				return clicks[:i+100]
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("streaming clicks: %v", ctx.Err())
		case <-tick.C:
		}
	}
	t.Fatalf("%d clicks produced and %s has not logged %q:\n%s", max, p.name, line, lastLines(p.out.String(), 30))
	return nil
}

// startedFrom maps each task with persistent state to where its state came
// from, from a process's "task started" log lines (tasks without a store
// start from "changelog (in-memory stores)" and are left out), and sums their
// restore durations and the changelog records they replayed.
func startedFrom(t *testing.T, log string) (from map[string]string, restore time.Duration, replayed int) {
	from = map[string]string{}
	re := regexp.MustCompile(`msg="task started" .*task=(\S+) state_from="([^"]*)" changelog_records_replayed=(\d+) restore_duration=(\S+)`)
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		if m[2] == "changelog (in-memory stores)" {
			continue
		}
		from[m[1]] = m[2]
		n, _ := strconv.Atoi(m[3])
		d, err := time.ParseDuration(m[4])
		if err != nil {
			t.Fatalf("task %s: restore_duration %q: %v", m[1], m[4], err)
		}
		replayed += n
		restore += d
	}
	return from, restore, replayed
}

// TestExactlyOnceCleanShutdownMarker restarts a single exactly-once replica
// three times while clicks wait for it:
//
//   - after SIGTERM every stateful task starts from its local state (the
//     marker the clean close wrote), replaying only the committed changelog
//     after it;
//   - that start deleted the markers, so after the SIGKILL that follows (the
//     process had opened the state and written to it) no task starts from
//     local state: it is wiped and restored from a snapshot or the changelog;
//   - a SIGTERM right after starts from local state again.
//
// The time from each start to the first record processed (the engine's log
// line) is logged, not asserted; the committed output is exact at the end.
func TestExactlyOnceCleanShutdownMarker(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 1, append([]string{"--voters", "1", "--checkpoint-interval", "1s"}, eosFlag...)...)
	clicks := makeClicks(0, 6000)
	out := committedTail(t, addr)
	p := c.start(0)
	produce(ctx, t, cl, clicks[:2000])
	waitCounts(ctx, t, out, clicks[:2000])
	c.waitStatus(ctx, 0, "a checkpoint completes", func(st replicaStatus) bool { return lastComplete(st) > 0 })

	restart := func(how string, upTo int, wantLocal bool) {
		t.Helper()
		if how == "SIGTERM" {
			stopClean(ctx, t, p)
			if n := strings.Count(p.out.String(), "clean-shutdown marker written"); n != partitions {
				t.Errorf("after SIGTERM: %d clean-shutdown markers written, want %d (one per stateful task):\n%s",
					n, partitions, lastLines(p.out.String(), 30))
			}
		} else {
			c.kill(0)
		}
		produce(ctx, t, cl, clicks[upTo-1000:upTo]) // waiting for the restart
		at := time.Now()
		p = c.start(0)
		c.waitProcessing(ctx, 0, at)
		waitCounts(ctx, t, out, clicks[:upTo])
		from, restore, replayed := startedFrom(t, p.out.String())
		first := regexp.MustCompile(`msg="first record processed" .*since_start=(\S+)`).FindStringSubmatch(p.out.String())
		if first == nil {
			t.Fatalf("after %s: no \"first record processed\" log line", how)
		}
		t.Logf("after %s: first record processed %s after the start; the stateful tasks' restores took %s in all, replaying %d changelog records; state from %v",
			how, first[1], restore, replayed, from)
		if len(from) != partitions {
			t.Fatalf("after %s: %d stateful tasks started, want %d:\n%s", how, len(from), partitions, grepLines(p.out.String(), "task started"))
		}
		for task, src := range from {
			if local := src == "local state (clean shutdown)"; local != wantLocal {
				t.Errorf("after %s: task %s started from %q; from local state: %v, want %v", how, task, src, local, wantLocal)
			}
		}
	}
	restart("SIGTERM", 3000, true)
	produce(ctx, t, cl, clicks[3000:4000])
	waitCounts(ctx, t, out, clicks[:4000])
	restart("SIGKILL", 5000, false)
	restart("SIGTERM", 6000, true)
	stopClean(ctx, t, p)
	checkExactlyOnce(ctx, t, addr, clicks)
}
