package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/miniotest"
	"github.com/gofka/streams/state/snapshot"
)

// A cluster is N replicas of the click-count binary on one machine: each with
// its own state directory, Raft address and status endpoint, all sharing one
// broker and one snapshot directory.
type cluster struct {
	t         *testing.T
	broker    string
	snapshots string
	raft      []string // the --peers list, in order
	status    []string
	dirs      []string
	procs     []*proc // the current process of each replica
	all       []*proc // every process started, in order
	extra     []string
	starts    int
}

func newCluster(t *testing.T, broker string, n int, extra ...string) *cluster {
	c := &cluster{t: t, broker: broker, snapshots: "file://" + t.TempDir(), extra: extra}
	for i := 0; i < n; i++ {
		c.raft = append(c.raft, freeAddr(t))
		c.status = append(c.status, freeAddr(t))
		c.dirs = append(c.dirs, t.TempDir())
	}
	c.procs = make([]*proc, n)
	return c
}

// start starts replica i (again, after a kill or stop: same directory and addresses).
func (c *cluster) start(i int) *proc {
	c.t.Helper()
	c.starts++
	args := append([]string{
		"run", "--brokers", c.broker, "--state-dir", c.dirs[i], "--replica-id", fmt.Sprintf("r%d", i),
		"--commit-interval", "500ms", "--raft-addr", c.raft[i], "--peers", strings.Join(c.raft, ","),
		"--status-addr", c.status[i], "--snapshots", c.snapshots, "--log-level", "debug",
		"--repartition-purge-interval", "0", // tests read the repartition topic from its start
	}, c.extra...)
	p := start(c.t, fmt.Sprintf("r%d#%d", i, c.starts), args...)
	c.procs[i] = p
	c.all = append(c.all, p)
	return p
}

func (c *cluster) startAll() {
	for i := range c.raft {
		c.start(i)
	}
}

func (c *cluster) kill(i int) {
	c.t.Helper()
	p := c.procs[i]
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-p.done
}

// replicaStatus is what the tests read of GET /status.
type replicaStatus struct {
	Replica struct {
		Replica string `json:"replica"`
		Tasks   []struct {
			Task      string `json:"task"`
			StateFrom string `json:"state_from"`
		} `json:"tasks"`
	} `json:"replica"`
	Cluster struct {
		ID          string            `json:"id"`
		Leader      string            `json:"leader_id"`
		Epoch       uint64            `json:"epoch"`
		Assignment  map[string]string `json:"assignment"`
		Checkpoints []struct {
			ID    uint64 `json:"id"`
			State string `json:"state"`
		} `json:"checkpoints"`
	} `json:"cluster"`
}

func (c *cluster) statusOf(ctx context.Context, i int) (replicaStatus, error) {
	var st replicaStatus
	err := c.getJSON(ctx, i, &st)
	return st, err
}

// get fetches a path of replica i's status endpoint.
func (c *cluster) get(ctx context.Context, i int, path string) (int, string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.status[i]+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getJSON reads replica i's GET /status into v.
func (c *cluster) getJSON(ctx context.Context, i int, v any) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.status[i]+"/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitStatus polls replica i's status until cond holds.
func (c *cluster) waitStatus(ctx context.Context, i int, what string, cond func(replicaStatus) bool) replicaStatus {
	c.t.Helper()
	var last replicaStatus
	err := poll(ctx, what, func() (bool, error) {
		st, err := c.statusOf(ctx, i)
		if err != nil {
			return false, nil // not up yet
		}
		last = st
		return cond(st), nil
	})
	if err != nil {
		c.t.Fatalf("%v (last status of r%d: %+v)", err, i, last)
	}
	return last
}

// leader is the index of the replica the others agree leads.
func (c *cluster) leader(ctx context.Context, alive []int) int {
	c.t.Helper()
	st := c.waitStatus(ctx, alive[0], "a leader is known", func(st replicaStatus) bool { return st.Cluster.Leader != "" })
	for i := range c.raft {
		if st.Cluster.Leader == fmt.Sprintf("r%d", i) || st.Cluster.Leader == c.raft[i] {
			return i
		}
	}
	c.t.Fatalf("leader %q is none of the replicas", st.Cluster.Leader)
	return -1
}

// everyTaskRunning waits until the replicas in alive run all 8 tasks of
// click-count (2 sub-topologies × 4 partitions) between them, each exactly once,
// balanced: each runs ⌊8/n⌋ or ⌈8/n⌉ of them.
func (c *cluster) everyTaskRunning(ctx context.Context, alive []int) map[string]int {
	c.t.Helper()
	var owners map[string]int
	err := poll(ctx, "every task runs on exactly one live replica", func() (bool, error) {
		owners = map[string]int{}
		for _, i := range alive {
			st, err := c.statusOf(ctx, i)
			if err != nil {
				return false, nil
			}
			for _, tk := range st.Replica.Tasks {
				if _, dup := owners[tk.Task]; dup {
					// Two replicas' /status are read one after the other, so a
					// hand-over (or a paused replica's view from before its
					// pause) can show a task on both: not settled yet. Whether a
					// task ever ran on two processes at once is checked from
					// their logs (checkNoOverlap, checkSilentWhileFenced).
					return false, nil
				}
				owners[tk.Task] = i
			}
		}
		if len(owners) != 2*partitions {
			return false, nil
		}
		per := map[int]int{}
		for _, o := range owners {
			per[o]++
		}
		for _, i := range alive {
			if per[i] < 2*partitions/len(alive) || per[i] > (2*partitions+len(alive)-1)/len(alive) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		c.t.Fatalf("%v (owners now %v)", err, owners)
	}
	return owners
}

// clickStream says how streamClicks paces its input: a chunk of clicks every
// gap (defaults: 250 every 25ms, about 10,000 clicks a second), waiting before
// the chunk that starts at each offset in pauses until its channel closes.
type clickStream struct {
	chunk  int
	gap    time.Duration
	pauses map[int]<-chan struct{}
}

// streamClicks produces clicks as s says until all are written, recording in
// produced how many are, and reports the outcome on the channel it returns.
func streamClicks(ctx context.Context, cl *kgo.Client, clicks []inClick, produced *atomic.Int64, s clickStream) <-chan error {
	if s.chunk <= 0 {
		s.chunk = 250
	}
	if s.gap <= 0 {
		s.gap = 25 * time.Millisecond
	}
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(s.gap)
		defer tick.Stop()
		for i := 0; i < len(clicks); i += s.chunk {
			if wait, ok := s.pauses[i]; ok {
				select {
				case <-wait:
				case <-ctx.Done():
					done <- ctx.Err()
					return
				}
			}
			if err := produceClicks(ctx, cl, clicks[i:min(i+s.chunk, len(clicks))]); err != nil {
				done <- err
				return
			}
			produced.Store(int64(min(i+s.chunk, len(clicks))))
			select {
			case <-ctx.Done():
				done <- ctx.Err()
				return
			case <-tick.C:
			}
		}
		done <- nil
	}()
	return done
}

// checkComplete requires every real click counted at least once in the output
// and every input committed.
func checkComplete(ctx context.Context, t *testing.T, addr string, adm *kadm.Client, clicks []inClick) *counts {
	t.Helper()
	want := expectedCounts(clicks)
	out := newTail(t, addr, outputTopic)
	err := out.until(ctx, "every user's count reaches its number of real clicks", func(c *counts) bool {
		for u, n := range want {
			if c.latest[u] < n {
				return false
			}
		}
		return true
	})
	if err != nil {
		for _, u := range slices.Sorted(maps.Keys(want)) {
			if out.c.latest[u] < want[u] {
				t.Errorf("%s: count %d, want at least %d", u, out.c.latest[u], want[u])
			}
		}
		t.Fatal(err)
	}
	t.Logf("%d output records for %d real clicks (%d from reprocessing)", out.c.records, realClicks(clicks), out.c.records-realClicks(clicks))
	return out.c
}

// firstTaskStartAfter is when p's log says it first started a task after
// since (zero if never).
func firstTaskStartAfter(p *proc, since time.Time) time.Time {
	for _, line := range strings.Split(p.out.String(), "\n") {
		m := logLineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[2] != "task started" {
			continue
		}
		if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil && at.After(since) {
			return at
		}
	}
	return time.Time{}
}

// startedTasks finds, in a replica's log, the tasks it started.
var taskStartedRE = regexp.MustCompile(`msg="task started" .*?task=(\S+)`)

func startedTasks(p *proc) []string {
	var out []string
	for _, m := range taskStartedRE.FindAllStringSubmatch(p.out.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestThreeReplicasShareWorkAndSurviveWorkerKill runs click-count on three
// replicas: they elect a leader, share the 8 tasks, and when a worker that is
// not the leader is SIGKILLed mid-stream its tasks move to the other two and
// every click is still counted.
func TestThreeReplicasShareWorkAndSurviveWorkerKill(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)

	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")
	c.startAll()
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})
	for i := range 3 {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "gofka_task_restore_seconds{task=\""} {
			if code, body := c.get(ctx, i, path); code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("r%d GET %s: %d %q, want 200 with %q", i, path, code, lastLines(body, 5), want)
			}
		}
	}

	clicks := makeClicks(0, 20000)
	var produced atomic.Int64
	resume := make(chan struct{})
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{pauses: map[int]<-chan struct{}{len(clicks) / 2: resume}})
	out := newTail(t, addr, outputTopic)
	if err := out.until(ctx, "output appears", func(c *counts) bool { return c.records > 0 }); err != nil {
		t.Fatal(err)
	}
	leader := c.leader(ctx, []int{0, 1, 2})
	c.checkRaftMetrics(ctx, t, leader, []int{0, 1, 2})
	victim := (leader + 1) % 3
	var moved []string
	for task, o := range owners {
		if o == victim {
			moved = append(moved, task)
		}
	}
	killedAt, killed := time.Now(), c.procs[victim]
	c.kill(victim)
	close(resume)
	t.Logf("SIGKILLed r%d (tasks %v) with %d clicks produced; the leader is r%d", victim, moved, produced.Load(), leader)

	alive := []int{}
	for i := range 3 {
		if i != victim {
			alive = append(alive, i)
		}
	}
	after := c.everyTaskRunning(ctx, alive)
	t.Logf("every task running again %s after the kill: %v", time.Since(killedAt).Round(time.Millisecond), after)
	for _, task := range moved {
		if o := after[task]; !slices.Contains(startedTasks(c.procs[o]), task) {
			t.Errorf("task %s of the killed replica: r%d runs it but never logged starting it", task, o)
		}
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, []procEnd{{killed.name, killedAt}})
}

// TestLeaderKillElectsNewLeaderAndCheckpointsContinue SIGKILLs the Raft leader:
// the other two elect a new one, the dead leader's tasks move, checkpoints go on
// completing, and every click is counted.
func TestLeaderKillElectsNewLeaderAndCheckpointsContinue(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)

	c := newCluster(t, addr, 3, "--checkpoint-interval", "1s")
	c.startAll()
	c.everyTaskRunning(ctx, []int{0, 1, 2})
	clicks := makeClicks(0, 12000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{})

	leader := c.leader(ctx, []int{0, 1, 2})
	c.checkRaftMetrics(ctx, t, leader, []int{0, 1, 2})
	_, body := c.get(ctx, (leader+1)%3, "/metrics")
	termBefore := metricValue(body, "gofka_raft_term")
	survivor := (leader + 1) % 3
	before := c.waitStatus(ctx, survivor, "a checkpoint completes", func(st replicaStatus) bool {
		return lastComplete(st) > 0
	})
	killed := procEnd{c.procs[leader].name, time.Now()}
	c.kill(leader)
	t.Logf("SIGKILLed the leader r%d after checkpoint %d completed", leader, lastComplete(before))
	alive := []int{survivor, (leader + 2) % 3}
	newLeader := -1
	c.waitStatus(ctx, survivor, "a new leader", func(st replicaStatus) bool {
		for _, i := range alive {
			if st.Cluster.Leader == fmt.Sprintf("r%d", i) || st.Cluster.Leader == c.raft[i] {
				newLeader = i
				return true
			}
		}
		return false
	})
	c.everyTaskRunning(ctx, alive)
	c.waitStatus(ctx, survivor, "checkpoints complete under the new leader", func(st replicaStatus) bool {
		return lastComplete(st) > lastComplete(before)+1
	})
	t.Logf("r%d leads now", newLeader)
	// A new election: a higher term, and each survivor saw one more leader.
	c.checkRaftMetrics(ctx, t, newLeader, alive)
	_, body = c.get(ctx, survivor, "/metrics")
	if term, changes := metricValue(body, "gofka_raft_term"), metricValue(body, "gofka_raft_leader_changes_total"); term <= termBefore || changes < 2 {
		t.Errorf("r%d after the election: gofka_raft_term %v (before %v), gofka_raft_leader_changes_total %v; want a higher term and ≥ 2 changes", survivor, term, termBefore, changes)
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, []procEnd{killed})
}

func lastComplete(st replicaStatus) uint64 {
	var n uint64
	for _, cp := range st.Cluster.Checkpoints {
		if cp.State == "complete" && cp.ID > n {
			n = cp.ID
		}
	}
	return n
}

// TestRollingRestartLosesNothing restarts the three replicas one after another
// (SIGTERM, wait for the others to take over, start again) while clicks stream.
func TestRollingRestartLosesNothing(t *testing.T) {
	ctx := testContext(t, 180*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)

	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")
	c.startAll()
	c.everyTaskRunning(ctx, []int{0, 1, 2})
	clicks := makeClicks(0, 20000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{})
	for i := range 3 {
		code, err := c.procs[i].stop(ctx)
		if err != nil || code != 0 {
			t.Fatalf("r%d: SIGTERM gave status %d, %v", i, code, err)
		}
		others := []int{}
		for j := range 3 {
			if j != i {
				others = append(others, j)
			}
		}
		c.everyTaskRunning(ctx, others)
		c.start(i)
		c.everyTaskRunning(ctx, []int{0, 1, 2})
		t.Logf("r%d restarted with %d clicks produced", i, produced.Load())
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, nil) // SIGTERMed processes end with their own last log line
}

// TestSnapshotRestoreMatchesChangelogReplay loses a replica's RocksDB state (not
// its Raft log) after checkpoints completed: the restarted replica restores
// every task from the snapshot plus the changelog's tail, and its store equals
// the compacted changelog, what a full replay gives. Then the newest snapshot is
// corrupted: the replica detects it, falls back, says so, and still ends with
// the same store.
func TestSnapshotRestoreMatchesChangelogReplay(t *testing.T) {
	dir := t.TempDir()
	snapshotRestore(t, "file://"+dir, func(t *testing.T) int { return corruptSnapshots(t, dir) })
}

// TestSnapshotRestoreFromS3 is the same with snapshots in a real S3-compatible
// server (MinIO on 127.0.0.1), reached with the AWS SDK's standard credential
// chain (environment variables here), a custom endpoint and path-style URLs.
func TestSnapshotRestoreFromS3(t *testing.T) {
	srv := miniotest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", srv.Region)
	url := "s3://" + srv.Bucket + "/apps"
	snapshotRestore(t, url, func(t *testing.T) int {
		// Corrupt through the S3 API, as another writer would: every SST object.
		ctx := testContext(t, 30*time.Second)
		store, err := snapshot.Open(ctx, url, snapshot.Options{Endpoint: srv.Endpoint, PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		objs, err := store.List(ctx, group+"/sst/")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			rc, err := store.Get(ctx, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := store.Put(ctx, o.Key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
		}
		return len(objs)
	}, "--s3-endpoint", srv.Endpoint, "--s3-path-style")
}

func snapshotRestore(t *testing.T, snapshots string, corrupt func(*testing.T) int, extra ...string) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)

	c := newCluster(t, addr, 1, append([]string{"--checkpoint-interval", "1s", "--voters", "1"}, extra...)...)
	c.snapshots = snapshots
	c.start(0)
	clicks := makeClicks(0, 10000)
	produce(ctx, t, cl, clicks)
	checkComplete(ctx, t, addr, adm, clicks)
	c.waitStatus(ctx, 0, "two checkpoints complete after the input was processed", func(st replicaStatus) bool {
		return lastComplete(st) >= 2
	})
	if code, err := c.procs[0].stop(ctx); err != nil || code != 0 {
		t.Fatalf("SIGTERM: status %d, %v", code, err)
	}
	more := makeClicks(10000, 2000) // after the snapshot: only in the changelog
	produce(ctx, t, cl, more)

	stateDir := filepath.Join(c.dirs[0], group, "r0", "state")
	restart := func(label string) (*proc, map[string]int64) {
		t.Helper()
		if err := os.RemoveAll(stateDir); err != nil {
			t.Fatal(err)
		}
		p := c.start(0)
		c.everyTaskRunning(ctx, []int{0})
		all := append(slices.Clone(clicks), more...)
		checkComplete(ctx, t, addr, adm, all)
		if err := waitCommitted(ctx, adm, p, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if code, err := p.stop(ctx); err != nil || code != 0 {
			t.Fatalf("%s: SIGTERM gave status %d, %v", label, code, err)
		}
		store, seen := readReplicaStores(t, filepath.Join(c.dirs[0], group, "r0"), nil)
		if seen != partitions {
			t.Fatalf("%s: %d store partitions, want %d", label, seen, partitions)
		}
		changelog, _ := compactedChangelog(ctx, t, addr)
		if d := diffCounts(store, changelog); d != "" {
			t.Errorf("%s: store restored from the snapshot vs the compacted changelog: %s", label, d)
		}
		return p, store
	}

	p, _ := restart("from snapshot")
	if n := strings.Count(p.out.String(), `state_from="snapshot of checkpoint`); n != partitions {
		t.Errorf("%d tasks restored from a snapshot, want %d (one per store partition):\n%s", n, partitions, grepLines(p.out.String(), "task started"))
	}

	// Corrupt every content-addressed SST object the snapshots reference.
	corrupted := corrupt(t)
	if corrupted == 0 {
		t.Fatal("found no snapshot SST file to corrupt")
	}
	p, _ = restart("after corruption")
	if !strings.Contains(p.out.String(), "snapshot unusable") {
		t.Errorf("the corrupt snapshot was not reported:\n%s", grepLines(p.out.String(), "snapshot"))
	}
}

// corruptSnapshots flips a byte in the middle of every SST object under root.
func corruptSnapshots(t *testing.T, root string) int {
	n := 0
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sst") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return err
		}
		b[len(b)/2] ^= 0xff
		n++
		return os.WriteFile(path, b, 0o644)
	})
	return n
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// appendTimeTopics makes every topic click-count writes stamp its records with
// the broker's append time (message.timestamp.type=LogAppendTime): records
// carry their input's timestamp, so only the broker's time says when a record
// was written. The internal topics are created here, as the application would
// (the changelog compacted), before it starts.
func appendTimeTopics(ctx context.Context, t *testing.T, adm *kadm.Client) {
	t.Helper()
	appendTime := kadm.StringPtr("LogAppendTime")
	cfg := map[string]*string{"message.timestamp.type": appendTime}
	resp, err := adm.CreateTopics(ctx, partitions, 1, cfg, repartitionTopic)
	if err == nil {
		err = resp.Error()
	}
	if err == nil {
		resp, err = adm.CreateTopics(ctx, partitions, 1, map[string]*string{"message.timestamp.type": appendTime, "cleanup.policy": kadm.StringPtr("compact")}, changelogTopic)
		if err == nil {
			err = resp.Error()
		}
	}
	if err == nil {
		var alter kadm.AlterConfigsResponses
		alter, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.timestamp.type", Value: appendTime}}, outputTopic)
		if err == nil {
			for _, a := range alter {
				if a.Err != nil {
					err = a.Err
				}
			}
		}
	}
	if err != nil {
		t.Fatalf("topics stamped with the broker's append time: %v", err)
	}
}

// TestPausedReplicaIsFencedBeforeItWrites stops a worker with SIGSTOP for
// longer than the failure timeout: the coordinator declares it dead and moves
// its tasks. When it continues (SIGCONT) with its old assignment in memory, it
// must process nothing more for those tasks: its lease lapsed while it was
// stopped, so it drops them at once and joins again. Checked on what reached
// the broker: between its resumption and the next task it starts under a new
// lease, no record of the replica's producer but the one batch per partition
// its producer held when it was stopped; and every click is still counted.
func TestPausedReplicaIsFencedBeforeItWrites(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	appendTimeTopics(ctx, t, adm)

	c := newCluster(t, addr, 3)
	c.startAll()
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})
	clicks := makeClicks(0, 20000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{})
	out := newTail(t, addr, outputTopic)
	if err := out.until(ctx, "output appears", func(c *counts) bool { return c.records > 500 }); err != nil {
		t.Fatal(err)
	}
	// The victim: the worker (not the leader) running the most store tasks.
	leader := c.leader(ctx, []int{0, 1, 2})
	victim := -1
	var stateful []int32 // partitions of the store tasks the victim runs
	for _, i := range []int{(leader + 1) % 3, (leader + 2) % 3} {
		var ps []int32
		for task, o := range owners {
			if o == i && strings.HasPrefix(task, "1_") {
				n, _ := strconv.Atoi(strings.TrimPrefix(task, "1_"))
				ps = append(ps, int32(n))
			}
		}
		if victim < 0 || len(ps) > len(stateful) {
			victim, stateful = i, ps
		}
	}
	if len(stateful) == 0 {
		t.Fatalf("no worker runs a store task: %v", owners)
	}
	p := c.procs[victim]
	pausedAt := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGSTOPped r%d (store partitions %v)", victim, stateful)
	var alive []int
	for i := range 3 {
		if i != victim {
			alive = append(alive, i)
		}
	}
	c.everyTaskRunning(ctx, alive)
	resumedAt := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := p.waitLog(ctx, `msg="fenced: dropped every task`); err != nil {
		t.Fatal(err)
	}
	c.everyTaskRunning(ctx, []int{0, 1, 2}) // it rejoined and got a share again
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)

	// When did it start a task again, under its new lease?
	restartedAt := firstTaskStartAfter(p, resumedAt)
	if restartedAt.IsZero() {
		t.Fatalf("r%d never started a task again after it was fenced", victim)
	}
	// Its producer id, from the output partitions its store tasks wrote before
	// the pause (output partition p is written by task 1_p; the changelog is
	// compacted, so it may no longer hold the victim's records).
	startedAt := map[int32]time.Time{} // when the victim last started each store task before the pause
	for _, line := range strings.Split(p.out.String(), "\n") {
		m := logLineRE.FindStringSubmatch(strings.TrimSpace(line))
		tm := taskRE.FindStringSubmatch(line)
		if m == nil || tm == nil || m[2] != "task started" || !strings.HasPrefix(tm[1], "1_") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		n, _ := strconv.Atoi(strings.TrimPrefix(tm[1], "1_"))
		if err == nil && at.Before(pausedAt) {
			startedAt[int32(n)] = at
		}
	}
	pids := map[int64]bool{}
	for _, r := range readAll(ctx, t, addr, outputTopic) {
		if from, ok := startedAt[r.Partition]; ok && slices.Contains(stateful, r.Partition) && r.Timestamp.After(from) && r.Timestamp.Before(pausedAt) {
			pids[r.ProducerID] = true
		}
	}
	if len(pids) == 0 {
		t.Fatalf("found no output record of r%d before the pause", victim)
	}
	// Every topic it could write: nothing from it between resuming and its
	// new tasks but what its producer already held when it was stopped. Under
	// at-least-once that last batch per partition (records that passed the
	// lease check before the pause, waiting out the producer's linger) still
	// reaches the broker when the process continues: no client-side check can
	// win that race against the producer's own goroutine. It is at most one
	// batch per partition, which the broker stamps with one append time; any
	// later write would be a record processed after the lease lapsed. Under
	// exactly-once the batch is fenced too (TestExactlyOnceZombieFenced).
	for _, topic := range []string{changelogTopic, repartitionTopic, outputTopic} {
		batches := map[int32][]time.Time{}
		for _, r := range readAll(ctx, t, addr, topic) {
			if pids[r.ProducerID] && r.Timestamp.After(resumedAt) && r.Timestamp.Before(restartedAt) {
				batches[r.Partition] = append(batches[r.Partition], r.Timestamp)
				t.Logf("%s partition %d offset %d: the fenced replica's last buffered write, appended at %s (it resumed at %s) %v",
					topic, r.Partition, r.Offset, r.Timestamp.Format("15:04:05.000"), resumedAt.Format("15:04:05.000"), r.Headers)
			}
		}
		for p, at := range batches {
			if n := len(slices.Compact(at)); n > 1 {
				t.Errorf("%s partition %d: the fenced replica wrote %d batches after it resumed (%s) and before it was given tasks again (%s): more than the one its producer held when it was stopped",
					topic, p, n, resumedAt.Format("15:04:05.000"), restartedAt.Format("15:04:05.000"))
			}
		}
	}
	t.Logf("r%d resumed at %s, fenced, and started tasks again at %s", victim, resumedAt.Format("15:04:05.000"), restartedAt.Format("15:04:05.000"))
}
