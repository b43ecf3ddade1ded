package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofka/streams/internal/testkit"
)

// failoverKill is one SIGKILL and what followed it. Durations are seconds from
// the signal; a negative one means "does not apply" (a victim without a
// stateful task; a follower's kill elects no leader).
type failoverKill struct {
	Run      int      `json:"run"`
	Role     string   `json:"role"` // "non-leader" or "leader"
	Victim   string   `json:"victim"`
	Moved    []string `json:"moved_tasks"`
	Stateful []string `json:"stateful_tasks"`
	// ResumedStateful: until every one of the victim's 1_p tasks had written an
	// output record (producer timestamp) on its new owner.
	ResumedStateful float64 `json:"resumed_stateful_s"`
	// ResumedStatefulArrival: the same, by when this process received them.
	ResumedStatefulArrival float64 `json:"resumed_stateful_arrival_s"`
	// ResumedAll: until every moved task (0_q tasks by their repartition
	// records) had written again.
	ResumedAll float64 `json:"resumed_all_s"`
	// TaskStarted: until the new owners had logged "task started" for every
	// moved task.
	TaskStarted float64           `json:"task_started_s"`
	NewLeader   float64           `json:"new_leader_s"`
	NewOwners   map[string]string `json:"new_owners"`
	StateFrom   map[string]string `json:"state_from"`
	Replayed    int64             `json:"changelog_records_replayed"`
}

// failoverResult is the failover scenario's measurements.
type failoverResult struct {
	Kills          []failoverKill `json:"kills"`
	Rate           int            `json:"rate"`
	AchievedRate   float64        `json:"achieved_rate"`
	Checkpoint     string         `json:"checkpoint_interval"`
	ReplicaPeakMB  float64        `json:"replica_peak_rss_mb"`
	BrokerPeakMB   float64        `json:"broker_peak_rss_mb"`
	StartupSeconds float64        `json:"startup_s"`
}

// runFailover runs three replicas under a steady stream of clicks and SIGKILLs a
// non-leader and then the leader, -runs times, restarting the victim after each.
func runFailover(ctx context.Context, e *env) (*failoverResult, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	appID := "bench-failover-" + e.token
	l, err := e.brokers.acquire(ctx, "failover")
	if err != nil {
		return nil, err
	}
	defer l.release([]string{inputTopic, outputTopic}, []string{appID})
	if err := resetTopics(ctx, l.addr, e.cfg.partitions, inputTopic, outputTopic); err != nil {
		return nil, err
	}
	if err := appendTimeTopics(ctx, l.addr, appID, e.cfg.partitions); err != nil {
		return nil, err
	}
	dir := filepath.Join(e.scratch, "failover")
	rs, err := newReplicas(e, dir, l.addr, appID, 3)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range rs {
			r.killGroup()
		}
	}()
	res := &failoverResult{Rate: e.cfg.rate, Checkpoint: e.cfg.checkpointInterval.String()}

	st, err := startStream(ctx, l.addr, e.cfg.rate, e.cfg.partitions)
	if err != nil {
		return nil, err
	}
	defer st.stop()
	begin := time.Now()
	for _, r := range rs {
		if err := r.start(); err != nil {
			return nil, err
		}
	}
	all := []int{0, 1, 2}
	tasks := allTasks(e.cfg.partitions)
	if _, _, err := waitBalanced(ctx, rs, all, tasks, 2*time.Minute); err != nil {
		return nil, err
	}
	tr, err := startTracker(ctx, l.addr, appID)
	if err != nil {
		return nil, err
	}
	defer tr.stop()
	if err := waitFlowing(ctx, tr, time.Now(), tasks, rs, time.Minute); err != nil {
		return nil, err
	}
	res.StartupSeconds = time.Since(begin).Seconds()
	// Steady state has snapshots: a new owner restores from one plus the tail.
	if err := waitCheckpoint(ctx, rs, all, time.Time{}, 2*e.cfg.checkpointInterval+time.Minute); err != nil {
		return nil, err
	}
	e.cfg.logf("failover: 3 replicas balanced, output flowing and a checkpoint complete after %.1f s\n", time.Since(begin).Seconds())

	for run := 1; run <= e.cfg.runs; run++ {
		for _, role := range []string{"non-leader", "leader"} {
			k, err := killOnce(ctx, e, rs, tr, tasks, run, role)
			if err != nil {
				return nil, fmt.Errorf("run %d, %s kill: %w", run, role, err)
			}
			res.Kills = append(res.Kills, k)
			e.cfg.logf("failover run %d: SIGKILLed the %s %s (tasks %v): stateful tasks resumed after %s, all after %.2f s, task started after %.2f s\n",
				run, role, k.Victim, k.Moved, secs(k.ResumedStateful), k.ResumedAll, k.TaskStarted)
			// The victim comes back with its state and Raft log.
			victim := slices.IndexFunc(rs, func(r *replica) bool { return r.name == k.Victim })
			if err := rs[victim].start(); err != nil {
				return nil, err
			}
			if _, at, err := waitBalanced(ctx, rs, all, tasks, 2*time.Minute); err != nil {
				return nil, fmt.Errorf("after restarting %s: %w", k.Victim, err)
			} else if err := waitFlowing(ctx, tr, at, tasks, rs, time.Minute); err != nil {
				return nil, fmt.Errorf("after restarting %s: %w", k.Victim, err)
			}
			time.Sleep(time.Second) // let the returning replica settle (heartbeats, lease)
		}
	}
	res.AchievedRate = st.rate()
	if err := st.stop(); err != nil {
		return nil, err
	}
	for _, r := range rs {
		r.sample()
		res.ReplicaPeakMB = max(res.ReplicaPeakMB, float64(r.peakKB)/1024)
	}
	res.BrokerPeakMB = l.peakRSSMB()
	return res, nil
}

// killOnce waits for a balanced cluster, SIGKILLs the victim the role names and
// measures until every task it ran writes again elsewhere.
func killOnce(ctx context.Context, e *env, rs []*replica, tr *tracker, tasks []string, run int, role string) (failoverKill, error) {
	k := failoverKill{Run: run, Role: role, ResumedStateful: -1, ResumedStatefulArrival: -1, NewLeader: -1,
		NewOwners: map[string]string{}, StateFrom: map[string]string{}}
	all := []int{0, 1, 2}
	owners, _, err := waitBalanced(ctx, rs, all, tasks, time.Minute)
	if err != nil {
		return k, err
	}
	leader := -1
	for _, i := range all {
		if st, err := rs[i].status(ctx); err == nil {
			if leader = leaderIndex(st, rs); leader >= 0 {
				break
			}
		}
	}
	if leader < 0 {
		return k, fmt.Errorf("no replica names a leader")
	}
	victim := leader
	if role == "non-leader" {
		// The follower running the most stateful tasks (ties alternate by run).
		best := -1
		for off := range 3 {
			i := (run + off) % 3
			if i == leader {
				continue
			}
			if best < 0 || countStateful(owners, i) > countStateful(owners, best) {
				best = i
			}
		}
		victim = best
	}
	v := rs[victim]
	k.Victim = v.name
	for _, t := range tasks {
		if owners[t] == victim {
			k.Moved = append(k.Moved, t)
			if strings.HasPrefix(t, "1_") {
				k.Stateful = append(k.Stateful, t)
			}
		}
	}
	var survivors []int
	for _, i := range all {
		if i != victim {
			survivors = append(survivors, i)
		}
	}

	sent, gone, err := v.kill()
	if err != nil {
		return k, err
	}
	// Records written after the victim was reaped are the new owners'.
	tr.watch(gone)
	started := map[string]logEvent{}
	deadline := time.Now().Add(time.Minute)
	for {
		if role == "leader" && k.NewLeader < 0 {
			for _, i := range survivors {
				if st, err := rs[i].status(ctx); err == nil {
					if li := leaderIndex(st, rs); li >= 0 && li != victim {
						k.NewLeader = time.Since(sent).Seconds()
						break
					}
				}
			}
		}
		for _, i := range survivors {
			for _, ev := range rs[i].events(`msg="task started"`) {
				if ev.at.After(sent) && slices.Contains(k.Moved, ev.task) {
					if prev, ok := started[ev.task]; !ok || ev.at.Before(prev.at) {
						started[ev.task] = ev
						k.NewOwners[ev.task] = rs[i].name
					}
				}
			}
		}
		firsts := tr.firsts()
		done := len(started) == len(k.Moved) && (role != "leader" || k.NewLeader >= 0)
		for _, t := range k.Moved {
			_, ok := firsts[t]
			done = done && ok
		}
		if done {
			k.ResumedAll = 0
			for _, t := range k.Moved {
				k.ResumedAll = max(k.ResumedAll, firsts[t].written.Sub(sent).Seconds())
				k.TaskStarted = max(k.TaskStarted, started[t].at.Sub(sent).Seconds())
				k.StateFrom[t] = logField(started[t].line, "state_from")
				n, _ := strconv.ParseInt(logField(started[t].line, "changelog_records_replayed"), 10, 64)
				k.Replayed += n
			}
			for _, t := range k.Stateful {
				k.ResumedStateful = max(k.ResumedStateful, firsts[t].written.Sub(sent).Seconds())
				k.ResumedStatefulArrival = max(k.ResumedStatefulArrival, firsts[t].arrived.Sub(sent).Seconds())
			}
			return k, nil
		}
		if time.Now().After(deadline) {
			var missing []string
			for _, t := range k.Moved {
				if _, ok := firsts[t]; !ok {
					missing = append(missing, t+" wrote nothing")
				}
				if _, ok := started[t]; !ok {
					missing = append(missing, t+" not logged started")
				}
			}
			return k, fmt.Errorf("a minute after SIGKILL of %s: %s\n%s%s", v.name, strings.Join(missing, ", "),
				tailFile(rs[survivors[0]].logPath, 20), tailFile(rs[survivors[1]].logPath, 20))
		}
		select {
		case <-ctx.Done():
			return k, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func countStateful(owners map[string]int, i int) int {
	n := 0
	for t, o := range owners {
		if o == i && strings.HasPrefix(t, "1_") {
			n++
		}
	}
	return n
}

// logField reads key="value" or key=value from a slog text line.
func logField(line, key string) string {
	re := regexp.MustCompile(` ` + regexp.QuoteMeta(key) + `=("(?:[^"\\]|\\.)*"|\S*)`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if s, err := strconv.Unquote(m[1]); err == nil {
		return s
	}
	return m[1]
}

// allTasks lists click-count's tasks: 2 sub-topologies × partitions.
func allTasks(partitions int32) []string {
	var out []string
	for st := range 2 {
		for p := range partitions {
			out = append(out, fmt.Sprintf("%d_%d", st, p))
		}
	}
	return out
}

// newReplicas makes n replicas of one application, each with its own state
// directory, Raft and status addresses, sharing one snapshot directory; n = 1
// makes a single replica without peers.
func newReplicas(e *env, dir, broker, appID string, n int) ([]*replica, error) {
	snaps := filepath.Join(dir, "snapshots")
	if err := os.MkdirAll(snaps, 0o755); err != nil {
		return nil, err
	}
	var raft []string
	rs := make([]*replica, n)
	for i := range rs {
		ra, err := testkit.FreeAddr()
		if err != nil {
			return nil, err
		}
		sa, err := testkit.FreeAddr()
		if err != nil {
			return nil, err
		}
		raft = append(raft, ra)
		rs[i] = &replica{name: fmt.Sprintf("r%d", i), bin: e.bin, raftAddr: ra, statusAddr: sa,
			stateDir: filepath.Join(dir, fmt.Sprintf("r%d", i)), logPath: filepath.Join(dir, fmt.Sprintf("r%d.log", i))}
	}
	for _, r := range rs {
		r.args = []string{"run", "--brokers", broker, "--app-id", appID, "--state-dir", r.stateDir,
			"--replica-id", r.name, "--raft-addr", r.raftAddr, "--status-addr", r.statusAddr,
			"--snapshots", "file://" + snaps, "--checkpoint-interval", e.cfg.checkpointInterval.String(),
			"--log-level", "info"}
		if n > 1 {
			r.args = append(r.args, "--peers", strings.Join(raft, ","))
		}
	}
	return rs, nil
}

// waitBalanced waits until the replicas in alive run every task exactly once
// between them, each ⌊T/n⌋ or ⌈T/n⌉ of them, and returns the owners (task →
// replica index) and when that was first seen.
func waitBalanced(ctx context.Context, rs []*replica, alive []int, tasks []string, limit time.Duration) (map[string]int, time.Time, error) {
	var owners map[string]int
	var why string
	err := testkit.WaitFor(ctx, limit, func() bool {
		owners = map[string]int{}
		per := map[int]int{}
		for _, i := range alive {
			if rs[i].exited() {
				why = fmt.Sprintf("%s exited: %v", rs[i].name, rs[i].err)
				return false
			}
			rs[i].sample()
			st, err := rs[i].status(ctx)
			if err != nil {
				why = err.Error()
				return false
			}
			for _, t := range st.Replica.Tasks {
				if o, dup := owners[t.Task]; dup {
					why = fmt.Sprintf("task %s runs on %s and %s", t.Task, rs[o].name, rs[i].name)
					return false
				}
				owners[t.Task] = i
				per[i]++
			}
		}
		if len(owners) != len(tasks) {
			why = fmt.Sprintf("%d of %d tasks running", len(owners), len(tasks))
			return false
		}
		lo, hi := len(tasks)/len(alive), (len(tasks)+len(alive)-1)/len(alive)
		for _, i := range alive {
			if per[i] < lo || per[i] > hi {
				why = fmt.Sprintf("%s runs %d tasks", rs[i].name, per[i])
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("waiting until every task runs, balanced: %w (%s)", err, why)
	}
	return owners, time.Now(), nil
}

// waitFlowing waits until every task has written a record after at.
func waitFlowing(ctx context.Context, tr *tracker, at time.Time, tasks []string, rs []*replica, limit time.Duration) error {
	err := testkit.WaitFor(ctx, limit, func() bool { return tr.err() != nil || tr.wroteSince(at, tasks) })
	if err := tr.err(); err != nil {
		return err
	}
	if err != nil {
		var logs string
		for _, r := range rs {
			logs += tailFile(r.logPath, 10)
		}
		return fmt.Errorf("waiting until every task writes records: %w\n%s", err, logs)
	}
	return nil
}

// waitCheckpoint waits until one of the replicas in alive reports a complete
// checkpoint that started after after.
func waitCheckpoint(ctx context.Context, rs []*replica, alive []int, after time.Time, limit time.Duration) error {
	err := testkit.WaitFor(ctx, limit, func() bool {
		for _, i := range alive {
			st, err := rs[i].status(ctx)
			if err != nil || st.Cluster == nil {
				continue
			}
			for _, cp := range st.Cluster.Checkpoints {
				if cp.State == "complete" && cp.Started.After(after) {
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("waiting for a complete checkpoint started after %s: %w", after.Format("15:04:05.000"), err)
	}
	return nil
}

// secs formats a duration in seconds, or "n/a" for a negative one.
func secs(s float64) string {
	if s < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", s)
}
