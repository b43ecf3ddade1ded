package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// report gathers every scenario's measurements and writes them out.
type report struct {
	cfg               config
	started, finished time.Time
	machine, load     string
	loadEnd           string
	broker            string
	failover          *failoverResult
	restore           *restoreResult
	overhead          *overheadResult
	memory            *memoryResult
	standby           *standbyResult
	failures          []string // scenarios that failed, with why
}

// The targets.
const (
	failoverTarget = 5.0 // seconds, SIGKILL to processing resumed
	restoreTarget  = 10.0
	overheadTarget = 0.9
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Max(xs)
}

// medMax formats the median and maximum of xs in seconds; negative values (not
// applicable) are left out.
func medMax(xs []float64) string {
	var ok []float64
	for _, x := range xs {
		if x >= 0 {
			ok = append(ok, x)
		}
	}
	if len(ok) == 0 {
		return "n/a"
	}
	if len(ok) == 1 {
		return fmt.Sprintf("%.2f s", ok[0])
	}
	return fmt.Sprintf("%.2f s (max %.2f s)", median(ok), maxOf(ok))
}

func (rep *report) json() ([]byte, error) {
	return json.MarshalIndent(struct {
		Started  time.Time       `json:"started"`
		Finished time.Time       `json:"finished"`
		Machine  string          `json:"machine"`
		Load     string          `json:"load_average_at_start"`
		LoadEnd  string          `json:"load_average_at_end"`
		Broker   string          `json:"broker"`
		Command  string          `json:"command"`
		Failover *failoverResult `json:"failover,omitempty"`
		Restore  *restoreResult  `json:"restore,omitempty"`
		Overhead *overheadResult `json:"checkpoint_overhead,omitempty"`
		Memory   *memoryResult   `json:"memory,omitempty"`
		Standby  *standbyResult  `json:"standby,omitempty"`
		Failures []string        `json:"failures,omitempty"`
	}{rep.started, rep.finished, rep.machine, rep.load, rep.loadEnd, rep.broker, rep.cfg.command, rep.failover, rep.restore, rep.overhead, rep.memory, rep.standby, rep.failures}, "", "  ")
}

// markdown is the report: what ran where, the targets, then each scenario's
// table and every measurement.
func (rep *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	title := "Distributed runtime benchmarks: failover, restore, checkpoint overhead"
	memoryOnly := len(rep.cfg.scenarios) == 1 && rep.cfg.scenarios[0] == "memory"
	if memoryOnly {
		title = "Memory: does --memory bound the whole process? (issue 17, point 5)"
	}
	if len(rep.cfg.scenarios) == 1 && rep.cfg.scenarios[0] == "standby" {
		title = "Standby replicas: failover of a large store with and without a standby (issue 17, point 4)"
	}
	p("# %s\n\n", title)
	p("Measured %s (took %s) with:\n\n    %s\n\n", rep.started.UTC().Format("2006-01-02 15:04 MST"),
		rep.finished.Sub(rep.started).Round(time.Second), rep.cfg.command)
	p("- Machine: %s; load average (1, 5, 15 min) when the run started %s, when it ended %s: other work on the machine skews the figures.\n", rep.machine, rep.load, rep.loadEnd)
	p("- Broker: %s.\n", rep.broker)
	p("- Application: the click-count binary (examples/clickcount: user-clicks → filter bots → re-key by user → count in the RocksDB store click-counts → user-click-counts), %d partitions, so %d tasks: 0_p (filter and re-key, stateless) and 1_p (the count, stateful). Every replica is a process of its own, with its defaults unless said: at-least-once, --commit-interval 5s, --memory 256MiB, --failure-timeout 3s, snapshots in a local directory.\n\n",
		rep.cfg.partitions, 2*rep.cfg.partitions)

	if !memoryOnly {
		rep.targets(&b)
	}
	if len(rep.failures) > 0 {
		p("## Failed scenarios\n\n")
		for _, f := range rep.failures {
			p("```\n%s\n```\n\n", strings.TrimSpace(f))
		}
	}

	if f := rep.failover; f != nil {
		rep.failoverSection(&b, f)
	}
	if r := rep.restore; r != nil {
		rep.restoreSection(&b, r)
	}
	if o := rep.overhead; o != nil {
		rep.overheadSection(&b, o)
	}
	if m := rep.memory; m != nil {
		rep.memorySection(&b, m)
	}
	if s := rep.standby; s != nil {
		rep.standbySection(&b, s)
	}
	p("## Commands\n\n")
	p("    make bench-cluster                      # this report: -keys 10000000 -n 1000000 -runs 3, real Kafka when java+mvn+kcat exist\n")
	p("    make bench-memory                       # the memory scenario (bench/results/memory.md): peak RSS under --memory, before and after\n")
	p("    cd bench && go run ./cluster -keys 200000 -n 200000 -runs 1 -broker embedded -out /tmp/cluster.md   # a quick run (about a minute)\n")
	p("    cd bench && go run ./cluster -scenarios failover -runs 5                                            # one scenario\n")
	p("    cd bench && go test ./cluster           # smoke tests: 20,000 keys restored from a snapshot and by replay give the same, right store; the memory scenario sets GOMEMLIMIT; a standby takes its task over\n\n")
	p("Every measurement, with the state each task was restored from, is in %s.\n", orDash(rep.cfg.raw))
	return b.String()
}

// targets is the report's table of the targets.
func (rep *report) targets(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Targets\n\n| what | measured | target | verdict |\n|---|---|---|---|\n")
	if f := rep.failover; f != nil {
		for _, role := range []string{"non-leader", "leader"} {
			xs := f.resumed(role)
			if len(xs) == 0 {
				continue
			}
			med, mx := median(xs), maxOf(xs)
			p("| failover: SIGKILL of the %s → processing resumed on the new owner | median %.2f s, max %.2f s (%d kills) | under %.0f s | %s |\n",
				role, med, mx, len(xs), failoverTarget, verdictBelow(med, mx, failoverTarget, "s"))
		}
	}
	if r := rep.restore; r != nil {
		snap, replay := r.medians(func(rr restoreRun) float64 { return rr.RestoreSeconds })
		ratio := replay / snap
		p("| restore of %s keys: from the snapshot vs full changelog replay (tasks' restore time) | %.2f s vs %.2f s: %.1f× | at least %.0f× | %s |\n",
			thousands(r.Keys), snap, replay, ratio, restoreTarget, verdictAbove(ratio, restoreTarget, "×"))
	}
	if o := rep.overhead; o != nil {
		with, without := o.medianSeconds("1s"), o.medianSeconds("0")
		ratio := without / with
		p("| throughput with a checkpoint every second vs none (%s clicks) | %.2f× (%.0f vs %.0f clicks/s) | at least %.1f× | %s |\n",
			thousands(o.N), ratio, float64(o.N)/with, float64(o.N)/without, overheadTarget, verdictAbove(ratio, overheadTarget, "×"))
	}
	if sb := rep.standby; sb != nil {
		if ys := sb.processing(1); len(ys) > 0 {
			xs := sb.after(1, true)
			ys := sb.processing(1)
			pm, px := median(ys), maxOf(ys)
			p("| standby: %s keys, SIGKILL of the owner → the new owner processes the task's input, after the failure's detection, with --standby-replicas 1 | median %.2f s, max %.2f s (%d kills; without a standby %s) | under %.0f s | %s |\n",
				thousands(sb.Keys), pm, px, len(ys), medMax(sb.processing(0)), standbyTarget, verdictBelow(pm, px, standbyTarget, "s"))
			p("| standby: the same, to the first output record (counts leave the cache at a commit, every 5 s) | %s (without a standby %s) | — | — |\n",
				medMax(xs), medMax(sb.after(0, true)))
		}
	}
	p("\nVerdicts compare the median with the target; the maximum is shown beside it. A failover kill counts the time until the victim's count tasks (1_p) wrote again; when the victim ran none (3 of the 8 tasks can all be stateless ones), until its other tasks did.\n\n")
}

func (rep *report) failoverSection(b *strings.Builder, f *failoverResult) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 1. Failover: SIGKILL to processing resumed\n\n")
	p("Three replicas (3 Raft voters, --checkpoint-interval %s, --failure-timeout 3s), a steady stream of %s clicks/s (%s/s achieved) over %s users; they were balanced with output flowing and a checkpoint complete after %.1f s. Each of the %d runs SIGKILLs a follower (the one running the most stateful tasks), restarts it, waits until the 8 tasks are balanced again and all write, then SIGKILLs the leader and does the same.\n\n",
		f.Checkpoint, thousands(f.Rate), thousands(int(f.AchievedRate)), thousands(usersPerPartition*int(rep.cfg.partitions)), f.StartupSeconds, rep.cfg.runs)
	p("- **resumed (stateful)**: from the SIGKILL until every count task (1_p) the victim ran had written its first output record on its new owner (the record's broker append time: the output and repartition topics are LogAppendTime, since records carry their input's timestamp); **by arrival**: when this benchmark received those records.\n")
	p("- **resumed (all)**: the same over every task the victim ran, the stateless 0_q included (seen by their repartition records, whose keys name the input partition).\n")
	p("- **task started**: until the new owners had logged `task started` for every moved task (state restored, ready to consume).\n")
	p("- **new leader**: after a leader kill, until a survivor's /status named a new leader (polled every 20 ms).\n\n")
	p("| victim | kills | resumed (stateful) | by arrival | resumed (all) | task started | new leader |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, role := range []string{"non-leader", "leader"} {
		var st, arr, all, started, leader []float64
		n := 0
		for _, k := range f.Kills {
			if k.Role != role {
				continue
			}
			n++
			st, arr, all = append(st, k.ResumedStateful), append(arr, k.ResumedStatefulArrival), append(all, k.ResumedAll)
			started, leader = append(started, k.TaskStarted), append(leader, k.NewLeader)
		}
		if n == 0 {
			continue
		}
		p("| %s | %d | %s | %s | %s | %s | %s |\n", role, n, medMax(st), medMax(arr), medMax(all), medMax(started), medMax(leader))
	}
	p("\nEvery kill:\n\n| run | victim | tasks moved | resumed (stateful) | resumed (all) | task started | new leader | stateful tasks restored from (changelog records replayed, all moved tasks) |\n|---:|---|---|---:|---:|---:|---:|---|\n")
	for _, k := range f.Kills {
		var from []string
		for _, t := range k.Stateful {
			s := k.StateFrom[t]
			if i := strings.Index(s, " ("); i > 0 {
				s = s[:i]
			}
			from = append(from, t+" on "+k.NewOwners[t]+": "+s)
		}
		p("| %d | %s (%s) | %s | %s | %s | %s | %s | %s (%s) |\n", k.Run, k.Victim, k.Role, strings.Join(k.Moved, " "),
			secs(k.ResumedStateful), secs(k.ResumedAll), secs(k.TaskStarted), secs(k.NewLeader), orDash(strings.Join(from, "; ")), thousands(int(k.Replayed)))
	}
	p("\nPeak RSS: a replica %.0f MB, the broker %s.\n\n", f.ReplicaPeakMB, mb(f.BrokerPeakMB))
}

func (rep *report) restoreSection(b *strings.Builder, r *restoreResult) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 2. Restore of %s keys: snapshot vs changelog replay\n\n", thousands(r.Keys))
	fill := ""
	if r.FillMemory != "" {
		fill = fmt.Sprintf(", --memory %s while counting", r.FillMemory)
	}
	p("One replica (--checkpoint-interval %s%s) counted %s clicks of distinct users (loaded in %.1f s, counted in %.1f s from its start, peak RSS %.0f MB), so the store click-counts and its changelog hold %s keys: %.0f MB of RocksDB files (the snapshot directory, with the retained checkpoints, held %.0f MB). Once a checkpoint started after the last count had completed, it was stopped (SIGTERM). Then, %d times each, alternating which goes first, with the default --memory 256MiB:\n\n",
		r.Checkpoint, fill, thousands(r.Keys), r.LoadSeconds, r.ProcessSeconds, r.ReplicaPeakMB, thousands(r.Keys), r.StoreMB, r.SnapshotMB, rep.cfg.runs)
	p("- **snapshot**: `<state-dir>/<app-id>/r0/state` deleted (the Raft log kept), restarted: every task restores from the newest snapshot plus the changelog's tail;\n")
	p("- **changelog replay**: the state directory and the snapshot directory deleted, restarted: every task replays its whole changelog.\n\n")
	p("**restore** is the sum of the tasks' `restore_duration` (/status, the log; tasks start one after another); **ready** is from starting the process until /readyz answered 200 with all 8 tasks running (includes process start, joining the Raft group and planning topics).")
	if rep.cfg.verify {
		p(" After every restore the replica was stopped and its store read back: %s keys, each counted once, in both modes.", thousands(r.Keys))
	}
	p("\n\n| restore from | runs | restore, median (max) | ready, median (max) | changelog records replayed | peak RSS |\n|---|---:|---:|---:|---:|---:|\n")
	for _, mode := range []string{fromSnapshot, fromReplay} {
		var rest, ready, rss []float64
		var replayed int64
		for _, rr := range r.Runs {
			if rr.Mode == mode {
				rest, ready, rss = append(rest, rr.RestoreSeconds), append(ready, rr.ReadySeconds), append(rss, rr.PeakRSSMB)
				replayed = max(replayed, rr.Replayed)
			}
		}
		name := map[string]string{fromSnapshot: "snapshot", fromReplay: "changelog replay"}[mode]
		p("| %s | %d | %s | %s | %s | %.0f MB |\n", name, len(rest), medMax(rest), medMax(ready), thousands(int(replayed)), maxOf(rss))
	}
	snap, replay := r.medians(func(rr restoreRun) float64 { return rr.RestoreSeconds })
	snapReady, replayReady := r.medians(func(rr restoreRun) float64 { return rr.ReadySeconds })
	p("| **replay ÷ snapshot** | | **%.1f×** | %.1f× | | |\n\n", replay/snap, replayReady/snapReady)
	p("Every restart:\n\n| run | from | restore | longest task | ready | records replayed | store read back |\n|---:|---|---:|---:|---:|---:|---|\n")
	for _, rr := range r.Runs {
		check := "not checked"
		if rr.Verified {
			check = fmt.Sprintf("%s keys, right", thousands(int(rr.Keys)))
		}
		p("| %d | %s | %.2f s | %.2f s | %.2f s | %s | %s |\n", rr.Run, rr.Mode, rr.RestoreSeconds, rr.MaxTaskSeconds, rr.ReadySeconds, thousands(int(rr.Replayed)), check)
	}
	p("\nBroker peak RSS during this scenario: %s.\n\n", mb(r.BrokerPeakMB))
}

func (rep *report) overheadSection(b *strings.Builder, o *overheadResult) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 3. Checkpoint overhead: every second vs never\n\n")
	p("%s clicks (%s real, over 10,000 users) preloaded once; each measurement starts a fresh single replica (its own application id: no committed offsets, new internal topics, empty state) and times it from its start until the output holds one count update per real click (then checks there is exactly one), with --checkpoint-interval 1s or 0 (none), alternating which goes first, %d times each, after one unmeasured warm-up run.\n\n",
		thousands(o.N), thousands(o.Real), rep.cfg.runs)
	p("| --checkpoint-interval | runs | seconds, median (max) | clicks/s (median) | CPU s (median) | peak RSS (median) | checkpoints complete (median) |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, iv := range overheadIntervals {
		var s, cpu, rss, cps []float64
		for _, r := range o.Runs {
			if r.Interval == iv {
				s, cpu, rss, cps = append(s, r.Seconds), append(cpu, r.CPU), append(rss, r.PeakMB), append(cps, float64(r.Checkpoints))
			}
		}
		name := map[string]string{"1s": "1s", "0": "0 (none)"}[iv]
		p("| %s | %d | %s | %.0f | %.2f | %.0f MB | %.0f |\n", name, len(s), medMax(s), float64(o.N)/median(s), median(cpu), median(rss), median(cps))
	}
	with, without := o.medianSeconds("1s"), o.medianSeconds("0")
	p("| **throughput, 1s ÷ none** | | **%.2f×** | | | | |\n\n", without/with)
	p("Every measurement:\n\n| run | --checkpoint-interval | seconds | clicks/s | CPU s | checkpoints complete |\n|---:|---|---:|---:|---:|---:|\n")
	for _, r := range o.Runs {
		p("| %d | %s | %.2f | %.0f | %.2f | %d |\n", r.Run, r.Interval, r.Seconds, r.Rate, r.CPU, r.Checkpoints)
	}
	p("\n")
}

// resumed lists the stateful resumption times of the kills of one role (the
// time until all tasks resumed when the victim ran no stateful task).
func (f *failoverResult) resumed(role string) []float64 {
	var xs []float64
	for _, k := range f.Kills {
		if k.Role != role {
			continue
		}
		if k.ResumedStateful >= 0 {
			xs = append(xs, k.ResumedStateful)
		} else {
			xs = append(xs, k.ResumedAll)
		}
	}
	return xs
}

// medians returns the median of f over the snapshot runs and over the replay runs.
func (r *restoreResult) medians(f func(restoreRun) float64) (snapshot, replay float64) {
	var s, c []float64
	for _, rr := range r.Runs {
		if rr.Mode == fromSnapshot {
			s = append(s, f(rr))
		} else {
			c = append(c, f(rr))
		}
	}
	return median(s), median(c)
}

func (o *overheadResult) medianSeconds(interval string) float64 {
	var s []float64
	for _, r := range o.Runs {
		if r.Interval == interval {
			s = append(s, r.Seconds)
		}
	}
	return median(s)
}

// verdictBelow judges a median against an upper bound, and says whether the
// maximum stayed under it too.
func verdictBelow(med, mx, target float64, unit string) string {
	if med >= target {
		return fmt.Sprintf("**missed** by %.2f %s", med-target, unit)
	}
	v := fmt.Sprintf("met, %.2f %s under", target-med, unit)
	if mx >= target {
		v += fmt.Sprintf(" (but the slowest kill took %.2f %s)", mx, unit)
	}
	return v
}

// verdictAbove judges a ratio against a lower bound.
func verdictAbove(got, target float64, unit string) string {
	if got < target {
		return fmt.Sprintf("**missed** by %.2f%s (%.0f%% of the target)", target-got, unit, 100*got/target)
	}
	return fmt.Sprintf("met, %.2f%s over", got-target, unit)
}

// thousands formats n with thin separators: 10,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func mb(x float64) string {
	if x <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MB", x)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
