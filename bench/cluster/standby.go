package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// The standby scenario (issue 17, point 4): 3 replicas count -keys distinct
// users, then a steady stream keeps output flowing; the non-leader running
// the most count tasks is SIGKILLed, with --standby-replicas 1 and 0 side by
// side (a fresh application each, on the same input). Measured from the
// kill and from the failure's detection (the leader's assignment change
// declaring the victim dead, whose time /status's history gives) to
// processing resumed on the new owners (the first output record each of the
// victim's count tasks wrote there).

// standbyTarget is the target: with a standby, processing resumes
// within this long after the failure is detected.
const standbyTarget = 1.0 // seconds

// standbyKill is one run of one configuration.
type standbyKill struct {
	Standbys  int               `json:"standby_replicas"`
	Run       int               `json:"run"`
	Victim    string            `json:"victim"`
	Stateful  []string          `json:"stateful_tasks"`
	NewOwners map[string]string `json:"new_owners"`
	// ToStandby: every one of the victim's count tasks went to the replica
	// that kept its standby (with standbys only).
	ToStandby bool              `json:"to_standby"`
	StateFrom map[string]string `json:"state_from"`
	Replayed  int64             `json:"changelog_records_replayed"`
	// Detected: from the SIGKILL to the assignment change declaring the
	// victim dead; Resumed: to the last of its count tasks' first output
	// record on the new owner; ResumedAfterDetection: Resumed − Detected.
	Detected              float64 `json:"detected_s"`
	Resumed               float64 `json:"resumed_s"`
	ResumedAfterDetection float64 `json:"resumed_after_detection_s"`
	// StartedAfterDetection: until the new owners logged "task started"
	// (state restored, processing begins) for the last of them. The first
	// output record comes later: counts leave the cache at a commit.
	StartedAfterDetection float64 `json:"started_after_detection_s"`
	// ProcessingAfterDetection: until the new owners logged "task
	// processing" (their first batch of input) for the last of them.
	ProcessingAfterDetection float64 `json:"processing_after_detection_s"`
	FillSeconds              float64 `json:"fill_s"`
}

// standbyResult is the standby scenario's measurements.
type standbyResult struct {
	Keys        int           `json:"keys"`
	LoadSeconds float64       `json:"load_s"`
	Rate        int           `json:"rate"`
	Kills       []standbyKill `json:"kills"`
}

func runStandby(ctx context.Context, e *env) (*standbyResult, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	l, err := e.brokers.acquire(ctx, "standby")
	if err != nil {
		return nil, err
	}
	var apps []string
	defer func() { l.release([]string{inputTopic, outputTopic}, apps) }()
	if err := resetTopics(ctx, l.addr, e.cfg.partitions, inputTopic, outputTopic); err != nil {
		return nil, err
	}
	res := &standbyResult{Keys: e.cfg.keys, Rate: e.cfg.rate}
	begin := time.Now()
	if err := load(ctx, l.addr, inputTopic, e.cfg.keys, distinctUsers); err != nil {
		return nil, err
	}
	res.LoadSeconds = time.Since(begin).Seconds()
	e.cfg.logf("standby: loaded %d clicks of distinct users in %.1f s\n", e.cfg.keys, res.LoadSeconds)
	for run := 1; run <= e.cfg.runs; run++ {
		for _, n := range []int{1, 0} {
			appID := fmt.Sprintf("bench-standby%d-%d-%s", n, run, e.token)
			apps = append(apps, appID)
			k, err := standbyOnce(ctx, e, l.addr, appID, run, n)
			if err != nil {
				return res, fmt.Errorf("run %d, --standby-replicas %d: %w", run, n, err)
			}
			res.Kills = append(res.Kills, k)
			e.cfg.logf("standby run %d, --standby-replicas %d: SIGKILLed %s (count tasks %v): detected after %.2f s; after detection: tasks started %.2f s, first batch processed %.2f s, first output %s; state from %v, %d records replayed\n",
				run, n, k.Victim, k.Stateful, k.Detected, k.StartedAfterDetection, k.ProcessingAfterDetection, secs(k.ResumedAfterDetection), k.StateFrom, k.Replayed)
		}
	}
	return res, nil
}

// standbyOnce runs one application of 3 replicas with n standbys, fills its
// store, and SIGKILLs one replica.
func standbyOnce(ctx context.Context, e *env, addr, appID string, run, n int) (standbyKill, error) {
	k := standbyKill{Standbys: n, Run: run, NewOwners: map[string]string{}, StateFrom: map[string]string{}}
	if err := appendTimeTopics(ctx, addr, appID, e.cfg.partitions); err != nil {
		return k, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return k, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	rs, err := newReplicas(e, filepath.Join(e.scratch, appID), addr, appID, 3)
	if err != nil {
		return k, err
	}
	defer func() {
		for _, r := range rs {
			r.killGroup()
		}
	}()
	begin := time.Now()
	if err := fill(ctx, e, adm, rs, n); err != nil {
		return k, err
	}
	all := []int{0, 1, 2}
	tasks := allTasks(e.cfg.partitions)
	k.FillSeconds = time.Since(begin).Seconds()
	st, err := startStream(ctx, addr, e.cfg.rate, e.cfg.partitions)
	if err != nil {
		return k, err
	}
	defer st.stop()
	tr, err := startTracker(ctx, addr, appID)
	if err != nil {
		return k, err
	}
	defer tr.stop()
	if e.cfg.broker == "embedded" {
		tr.mu.Lock()
		tr.byArrival = true
		tr.mu.Unlock()
	}
	if err := waitFlowing(ctx, tr, time.Now(), tasks, rs, time.Minute); err != nil {
		return k, err
	}
	owners, _, err := waitBalanced(ctx, rs, all, tasks, time.Minute)
	if err != nil {
		return k, err
	}
	victim := pickVictim(ctx, rs, owners)
	v := rs[victim]
	k.Victim = v.name
	for _, t := range tasks {
		if owners[t] == victim && strings.HasPrefix(t, "1_") {
			k.Stateful = append(k.Stateful, t)
		}
	}
	keepers := map[string]string{} // task → the replica keeping its standby
	if n > 0 {
		if keepers, err = waitStandbysCaughtUp(ctx, rs, all, k.Stateful); err != nil {
			return k, err
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
	// Records the broker stamped after the victim was reaped are the new
	// owners'. The embedded broker does not stamp them (byArrival): a record
	// the victim wrote just before its death may arrive here later than one
	// of theirs, so there the first output is not reported.
	tr.watch(gone)
	if err := measureTakeover(ctx, rs, tr, survivors, v, sent, &k); err != nil {
		return k, err
	}
	k.ToStandby = n > 0
	for _, t := range k.Stateful {
		if n > 0 && k.NewOwners[t] != keepers[t] {
			k.ToStandby = false
		}
	}
	return k, nil
}

// waitStandbysCaughtUp waits until every task in tasks has a standby whose
// replica reports a lag of at most 10,000 records (the default
// --acceptable-recovery-lag), and returns who keeps each.
func waitStandbysCaughtUp(ctx context.Context, rs []*replica, alive []int, tasks []string) (map[string]string, error) {
	keepers := map[string]string{}
	err := testkit.WaitFor(ctx, 10*time.Minute, func() bool {
		for _, t := range tasks {
			keepers[t] = ""
			for _, i := range alive {
				s, err := rs[i].status(ctx)
				if err != nil {
					return false
				}
				for _, sb := range s.Replica.Standbys {
					if sb.Task == t && sb.Lag >= 0 && sb.Lag <= 10_000 {
						keepers[t] = rs[i].name
					}
				}
			}
			if keepers[t] == "" {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("waiting until the standbys of %v catch up: %w (%v)", tasks, err, keepers)
	}
	return keepers, nil
}

// deathTime is when the assignment history (any survivor's /status) records
// the member at addr declared dead after since.
func deathTime(ctx context.Context, rs []*replica, survivors []int, addr string, since time.Time) (time.Time, error) {
	var at time.Time
	err := testkit.WaitFor(ctx, time.Minute, func() bool {
		for _, i := range survivors {
			s, err := rs[i].status(ctx)
			if err != nil || s.Cluster == nil {
				continue
			}
			for _, h := range s.Cluster.History {
				if !h.Time.After(since) || !strings.Contains(h.Reason, "declared dead") {
					continue
				}
				for _, mv := range h.Moves {
					if mv.From == addr {
						at = h.Time
						return true
					}
				}
			}
		}
		return false
	})
	if err != nil {
		return at, fmt.Errorf("no assignment change declaring %s dead: %w", addr, err)
	}
	return at, nil
}

// after lists the kills with n standbys: their time to resumed, after the
// detection (afterDetection) or after the kill.
func (r *standbyResult) after(n int, afterDetection bool) []float64 {
	var out []float64
	for _, k := range r.Kills {
		if k.Standbys != n {
			continue
		}
		if afterDetection {
			out = append(out, k.ResumedAfterDetection)
		} else {
			out = append(out, k.Resumed)
		}
	}
	return out
}

// standbySection is the standby scenario's part of the report.
func (rep *report) standbySection(b *strings.Builder, r *standbyResult) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Standby replicas: failover of a %s-key store\n\n", thousands(r.Keys))
	p("3 replicas count %s distinct users (loaded in %.1f s), then %d clicks/s stream in; the non-leader running the most count tasks is SIGKILLed. "+
		"A fresh application per row, --standby-replicas 1 and 0 alternating. Detected: the leader's assignment change declaring the victim dead (--failure-timeout 3s), "+
		"by its time in /status's history. Then, for the last of the victim's count tasks (1_p): its new owner logged \"task started\" (state restored), \"task processing\" (its first batch of input), "+
		"and its first output record there (by the broker's append time; not with the embedded broker, which does not stamp records).\n\n",
		thousands(r.Keys), r.LoadSeconds, r.Rate)
	p("| --standby-replicas | run | victim | count tasks | detected after kill | first output after kill | first output after detection | task started after detection | first batch processed after detection | to the standby | state from | changelog records replayed |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, k := range r.Kills {
		var from []string
		for _, t := range k.Stateful {
			from = append(from, t+": "+k.StateFrom[t])
		}
		to := "n/a"
		if k.Standbys > 0 {
			to = fmt.Sprint(k.ToStandby)
		}
		p("| %d | %d | %s | %s | %.2f s | %s | %s | %.2f s | %.2f s | %s | %s | %s |\n", k.Standbys, k.Run, k.Victim, strings.Join(k.Stateful, ", "),
			k.Detected, secs(k.Resumed), secs(k.ResumedAfterDetection), k.StartedAfterDetection, k.ProcessingAfterDetection, to, strings.Join(from, "; "), thousands(int(k.Replayed)))
	}
	p("\nMedian first output after detection: with a standby %s, without %s; after the kill: %s vs %s; first batch processed after detection: %s vs %s. "+
		"A count leaves the typed cache at the next commit (--commit-interval 5s) or on eviction, so the first output record comes up to a commit interval "+
		"after processing began; \"task processing\" is logged when the new owner processed its first batch of the task's input.\n\n",
		medMax(r.after(1, true)), medMax(r.after(0, true)), medMax(r.after(1, false)), medMax(r.after(0, false)),
		medMax(r.processing(1)), medMax(r.processing(0)))
}

// processing lists the kills with n standbys: their time from detection to
// the first batch processed.
func (r *standbyResult) processing(n int) []float64 {
	var out []float64
	for _, k := range r.Kills {
		if k.Standbys == n {
			out = append(out, k.ProcessingAfterDetection)
		}
	}
	return out
}

// pickVictim is the non-leader running the most count tasks.
func pickVictim(ctx context.Context, rs []*replica, owners map[string]int) int {
	leader := -1
	for i := range rs {
		if s, err := rs[i].status(ctx); err == nil {
			if leader = leaderIndex(s, rs); leader >= 0 {
				break
			}
		}
	}
	victim := -1
	for i := range rs {
		if i != leader && (victim < 0 || countStateful(owners, i) > countStateful(owners, victim)) {
			victim = i
		}
	}
	return victim
}

// measureTakeover waits until the victim's count tasks run again on the
// survivors and fills in k's times, new owners and restores.
func measureTakeover(ctx context.Context, rs []*replica, tr *tracker, survivors []int, v *replica, sent time.Time, k *standbyKill) error {
	processing := map[string]time.Time{} // task → its new owner's first batch
	err := testkit.WaitFor(ctx, 2*time.Minute, func() bool {
		for _, i := range survivors {
			for _, ev := range rs[i].events(`msg="task processing"`) {
				if ev.at.After(sent) && slices.Contains(k.Stateful, ev.task) {
					if at, ok := processing[ev.task]; !ok || ev.at.Before(at) {
						processing[ev.task] = ev.at
					}
				}
			}
		}
		firsts := tr.firsts()
		for _, t := range k.Stateful {
			if _, ok := firsts[t]; (!ok && !tr.byArrival) || processing[t].IsZero() {
				return false
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("after SIGKILL of %s, count tasks %v did not resume: %w\n%s%s", v.name, k.Stateful, err,
			tailFile(rs[survivors[0]].logPath, 20), tailFile(rs[survivors[1]].logPath, 20))
	}
	detected, err := deathTime(ctx, rs, survivors, v.raftAddr, sent)
	if err != nil {
		return err
	}
	k.Detected = detected.Sub(sent).Seconds()
	k.Resumed, k.ResumedAfterDetection = -1, -1
	if !tr.byArrival {
		firsts := tr.firsts()
		for _, t := range k.Stateful {
			k.Resumed = max(k.Resumed, firsts[t].written.Sub(sent).Seconds())
		}
		k.ResumedAfterDetection = k.Resumed - k.Detected
	}
	for _, at := range processing {
		k.ProcessingAfterDetection = max(k.ProcessingAfterDetection, at.Sub(detected).Seconds())
	}
	for _, i := range survivors {
		for _, ev := range rs[i].events(`msg="task started"`) {
			if ev.at.After(sent) && slices.Contains(k.Stateful, ev.task) {
				k.StartedAfterDetection = max(k.StartedAfterDetection, ev.at.Sub(detected).Seconds())
				k.NewOwners[ev.task] = rs[i].name
				k.StateFrom[ev.task] = logField(ev.line, "state_from")
				var r int64
				fmt.Sscan(logField(ev.line, "changelog_records_replayed"), &r)
				k.Replayed += r
			}
		}
	}
	return nil
}

// fill starts the replicas with n standbys and waits until they have
// counted the -keys loaded clicks (one output record each).
func fill(ctx context.Context, e *env, adm *kadm.Client, rs []*replica, n int) error {
	base, err := endOffsetSum(ctx, adm, outputTopic)
	if err != nil {
		return err
	}
	for _, r := range rs {
		r.args = append(r.args, "--standby-replicas", fmt.Sprint(n))
		if err := r.start(); err != nil {
			return err
		}
	}
	if _, _, err := waitBalanced(ctx, rs, []int{0, 1, 2}, allTasks(e.cfg.partitions), 2*time.Minute); err != nil {
		return err
	}
	err = testkit.WaitFor(ctx, e.cfg.timeout, func() bool {
		c, err := endOffsetSum(ctx, adm, outputTopic)
		return err == nil && c-base >= int64(e.cfg.keys)
	})
	if err != nil {
		return fmt.Errorf("waiting until %d keys are counted: %w", e.cfg.keys, err)
	}
	return nil
}
