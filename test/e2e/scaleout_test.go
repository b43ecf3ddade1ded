package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Scaling out the way a Kafka Streams user does: start another instance with
// the same --app-id and no --peers. The instances find each other through the
// discovery topic on the shared broker (a separate broker process here), form
// one coordinator group and share the tasks; no task ever runs on two
// processes at once, and no click is counted twice unless a process is killed.

// startScaled starts instance i of c with no --peers and a Raft port chosen
// at start-up: it finds the others through the broker.
func (c *cluster) startScaled(i int) *proc {
	c.t.Helper()
	c.starts++
	args := append([]string{
		"run", "--brokers", c.broker, "--state-dir", c.dirs[i], "--replica-id", fmt.Sprintf("r%d", i),
		"--commit-interval", "500ms", "--raft-addr", "127.0.0.1:0", "--status-addr", c.status[i],
		"--snapshots", c.snapshots, "--log-level", "debug",
	}, c.extra...)
	p := start(c.t, fmt.Sprintf("r%d#%d", i, c.starts), args...)
	c.procs[i] = p
	c.all = append(c.all, p)
	return p
}

const bootstrapLog = "discovery found no live replica before this one: bootstrapping the group"

// bootstrappers counts the processes that bootstrapped a group.
func bootstrappers(procs []*proc) []string {
	var out []string
	for _, p := range procs {
		if strings.Contains(p.out.String(), bootstrapLog) || strings.Contains(p.out.String(), "no live replica before this one any more") {
			out = append(out, p.name)
		}
	}
	return out
}

// checkExact requires exactly one output update per real click: nothing
// counted twice.
func checkExact(ctx context.Context, t *testing.T, addr string, clicks []inClick) {
	t.Helper()
	got := readCounts(ctx, t, addr)
	want := expectedCounts(clicks)
	if d := diffCounts(got.latest, want); d != "" {
		t.Errorf("latest counts: %s", d)
	}
	if got.records != realClicks(clicks) {
		t.Errorf("%d output records for %d real clicks: %d counted twice", got.records, realClicks(clicks), got.records-realClicks(clicks))
	}
	checkUpdates(t, got, want)
}

// TestScaleOutOneAfterAnother starts one instance, then a second and a third
// while clicks stream, each with no --peers: each new one joins the running
// group and takes its share of the tasks. With no failure every click is
// counted exactly once. Then one is SIGKILLed: the others take its tasks over
// and every click is still counted.
func TestScaleOutOneAfterAnother(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")

	c.startScaled(0)
	c.everyTaskRunning(ctx, []int{0})
	clicks := makeClicks(0, 16000)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100, gap: 25 * time.Millisecond})
	for i := 1; i < 3; i++ {
		time.Sleep(500 * time.Millisecond)
		started := time.Now()
		c.startScaled(i)
		alive := []int{}
		for j := 0; j <= i; j++ {
			alive = append(alive, j)
		}
		c.everyTaskRunning(ctx, alive)
		t.Logf("instance r%d started with %d clicks produced; %d instances share the tasks %s after its start",
			i, produced.Load(), i+1, time.Since(started).Round(time.Millisecond))
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkExact(ctx, t, addr, clicks)
	if b := bootstrappers(c.all); len(b) != 1 {
		t.Errorf("processes that bootstrapped a group: %v, want exactly one", b)
	}

	// SIGKILL the last one; the other two go on.
	more := makeClicks(16000, 8000)
	prodDone = streamClicks(ctx, cl, more, &produced, clickStream{chunk: 100, gap: 25 * time.Millisecond})
	time.Sleep(time.Second)
	victim := c.procs[2]
	killedAt := time.Now()
	c.kill(2)
	c.everyTaskRunning(ctx, []int{0, 1})
	t.Logf("SIGKILLed %s: the other two run every task %s later", victim.name, time.Since(killedAt).Round(time.Millisecond))
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, append(clicks, more...))
	checkNoOverlap(t, c.all, []procEnd{{victim.name, killedAt}})
}

// TestScaleOutSimultaneousStart starts three instances at the same moment:
// exactly one bootstraps the group (the one whose announcement comes first in
// the discovery topic), the others join it. Then the leader is SIGKILLed:
// the two others (3 voters) elect a new leader and run every task.
func TestScaleOutSimultaneousStart(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")

	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock() // the cluster's bookkeeping is not concurrent; the processes start together
			defer mu.Unlock()
			c.startScaled(i)
		}()
	}
	wg.Wait()
	started := time.Now()
	c.everyTaskRunning(ctx, []int{0, 1, 2})
	t.Logf("3 instances started at once share every task %s later", time.Since(started).Round(time.Millisecond))
	if b := bootstrappers(c.all); len(b) != 1 {
		t.Errorf("processes that bootstrapped a group: %v, want exactly one", b)
	}

	clicks := makeClicks(0, 20000) // about 10 s of input
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 50, gap: 25 * time.Millisecond})
	time.Sleep(1500 * time.Millisecond)
	leader := c.leaderScaled(ctx, []int{0, 1, 2})
	victim := c.procs[leader]
	killedAt := time.Now()
	c.kill(leader)
	var alive []int
	for i := range 3 {
		if i != leader {
			alive = append(alive, i)
		}
	}
	c.everyTaskRunning(ctx, alive)
	t.Logf("SIGKILLed the leader %s with %d clicks produced: the other two run every task %s later",
		victim.name, produced.Load(), time.Since(killedAt).Round(time.Millisecond))
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, []procEnd{{victim.name, killedAt}})
}

// leaderScaled is the index of the leading instance (instances started with
// startScaled are named by their replica id).
func (c *cluster) leaderScaled(ctx context.Context, alive []int) int {
	c.t.Helper()
	st := c.waitStatus(ctx, alive[0], "a leader is known", func(st replicaStatus) bool { return st.Cluster.Leader != "" })
	for i := range c.procs {
		if st.Cluster.Leader == fmt.Sprintf("r%d", i) {
			return i
		}
	}
	c.t.Fatalf("leader %q is none of the instances", st.Cluster.Leader)
	return -1
}

// twoUnderLoad is a group of two discovered instances (failure timeout 2s)
// with clicks streaming in.
type twoUnderLoad struct {
	c        *cluster
	addr     string
	adm      *kadm.Client
	clicks   []inClick
	produced *atomic.Int64
	prodDone <-chan error
}

// startTwoUnderLoad starts two instances one after the other, waits until they
// share every task, and streams about 12 s of clicks into them.
func startTwoUnderLoad(ctx context.Context, t *testing.T) twoUnderLoad {
	t.Helper()
	addr, cl, adm := clickCountBroker(ctx, t)
	appendTimeTopics(ctx, t, adm) // checkSilentWhileFenced reads write times from record timestamps
	c := newCluster(t, addr, 2, "--checkpoint-interval", "2s", "--failure-timeout", "2s")
	c.startScaled(0)
	c.everyTaskRunning(ctx, []int{0})
	c.startScaled(1)
	c.everyTaskRunning(ctx, []int{0, 1})
	run := twoUnderLoad{c: c, addr: addr, adm: adm, clicks: makeClicks(0, 24000), produced: new(atomic.Int64)}
	run.prodDone = streamClicks(ctx, cl, run.clicks, run.produced, clickStream{chunk: 50, gap: 25 * time.Millisecond})
	time.Sleep(time.Second)
	return run
}

// TestTwoInstancesSurviveKillingTheVoter: two instances form a group with one
// voter (the first) and one non-voter. SIGKILLing the voter leaves the other
// without a quorum; once the dead voter's announcement is stale, the survivor
// recovers the group as its only voter and runs every task. The killed one,
// started again, joins the survivor's group.
func TestTwoInstancesSurviveKillingTheVoter(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	run := startTwoUnderLoad(ctx, t)
	c, addr, adm, clicks, prodDone, produced := run.c, run.addr, run.adm, run.clicks, run.prodDone, run.produced
	voter := c.leaderScaled(ctx, []int{0, 1})
	survivor := 1 - voter
	victim := c.procs[voter]
	killedAt := time.Now()
	c.kill(voter)
	c.everyTaskRunning(ctx, []int{survivor})
	t.Logf("SIGKILLed the voter %s with %d clicks produced: r%d runs every task %s later (failure timeout 2s; an announcement goes stale after 4s)",
		victim.name, produced.Load(), survivor, time.Since(killedAt).Round(time.Millisecond))
	if !strings.Contains(c.procs[survivor].out.String(), "recovering it as its only voter") {
		t.Errorf("r%d did not log recovering the group", survivor)
	}

	restarted := time.Now()
	c.startScaled(voter)
	c.everyTaskRunning(ctx, []int{0, 1})
	t.Logf("r%d started again: both share the tasks %s later", voter, time.Since(restarted).Round(time.Millisecond))
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, []procEnd{{victim.name, killedAt}})
}

// TestPausedVoterRejoinsTheRecoveredGroup: of two instances, the voter (the
// leader) is stopped with SIGSTOP long enough for its announcement to go
// stale; the other recovers the group alone and runs every task. When the
// old voter continues (SIGCONT) it still leads a group of its own in its Raft
// state, but its announcement lapsed: it grants no lease, fences itself,
// announces again and joins the recovered group, so one group runs every
// task, each on one instance. Every click is counted.
func TestPausedVoterRejoinsTheRecoveredGroup(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	run := startTwoUnderLoad(ctx, t)
	c, addr, adm, clicks, prodDone := run.c, run.addr, run.adm, run.clicks, run.prodDone
	voter := c.leaderScaled(ctx, []int{0, 1})
	survivor := 1 - voter
	p := c.procs[voter]
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	pausedAt := time.Now()
	c.everyTaskRunning(ctx, []int{survivor})
	t.Logf("SIGSTOPped the voter %s: r%d recovered the group and runs every task %s later", p.name, survivor, time.Since(pausedAt).Round(time.Millisecond))
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumedAt := time.Now()
	if err := p.waitLog(ctx, "this replica's announcement lapsed"); err != nil {
		t.Fatal(err)
	}
	c.everyTaskRunning(ctx, []int{0, 1})
	t.Logf("%s continued: it rejoined and both share the tasks %s later", p.name, time.Since(resumedAt).Round(time.Millisecond))
	st0 := c.waitStatus(ctx, 0, "a leader", func(st replicaStatus) bool { return st.Cluster.Leader != "" })
	st1 := c.waitStatus(ctx, 1, "a leader", func(st replicaStatus) bool { return st.Cluster.Leader != "" })
	if st0.Cluster.Leader != st1.Cluster.Leader {
		t.Errorf("two groups: r0 follows %q, r1 follows %q", st0.Cluster.Leader, st1.Cluster.Leader)
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkSilentWhileFenced(ctx, t, addr, p, []*proc{c.procs[survivor]}, pausedAt, resumedAt)
}

// TestSameReplicaIDRefused: a second instance given the --replica-id of a
// running one refuses to start, naming the running one.
func TestSameReplicaIDRefused(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	addr, _, _ := clickCountBroker(ctx, t)
	first := startApp(t, "first", addr, t.TempDir(), "--status-addr", freeAddr(t), "--replica-id", "a")
	if err := first.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	second := startApp(t, "second", addr, t.TempDir(), "--status-addr", freeAddr(t), "--replica-id", "a")
	code, err := second.wait(ctx)
	if err != nil || code == 0 {
		t.Fatalf("the second instance: exit status %d, %v; want a refusal", code, err)
	}
	out := second.out.String()
	if !strings.Contains(out, `replica id \"a\" is in use by the running replica at`) && !strings.Contains(out, `replica id "a" is in use by the running replica at`) {
		t.Errorf("the second instance did not name the running one:\n%s", lastLines(out, 10))
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	t.Logf("refused: %s", lines[len(lines)-1])
	if first.exited() {
		t.Errorf("the first instance exited: %v", first.err)
	}
}

// TestScaleOutAllKilledAndRestarted: both instances of a group are SIGKILLed
// and started again at once. The dead processes' announcements are still
// fresh for a while, but nobody answers at their addresses: the new processes
// wait until those announcements go stale, then the first to have announced
// recovers the group on its own Raft state (its checkpoint log included) and
// the other joins it. Every click is counted, no task runs twice at once.
func TestScaleOutAllKilledAndRestarted(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 2, "--checkpoint-interval", "1s", "--failure-timeout", "2s")
	c.startScaled(0)
	c.everyTaskRunning(ctx, []int{0})
	c.startScaled(1)
	c.everyTaskRunning(ctx, []int{0, 1})
	clicks := makeClicks(0, 24000) // about 12 s of input
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 50, gap: 25 * time.Millisecond})
	c.waitStatus(ctx, 0, "a checkpoint completes", func(st replicaStatus) bool { return lastComplete(st) > 0 })

	var ends []procEnd
	for i := range 2 {
		p := c.procs[i]
		c.kill(i)
		ends = append(ends, procEnd{p.name, time.Now()})
	}
	killedAt := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			c.startScaled(i)
		}()
	}
	wg.Wait()
	c.everyTaskRunning(ctx, []int{0, 1})
	t.Logf("both SIGKILLed with %d clicks produced and started again: they share every task %s after the kill",
		produced.Load(), time.Since(killedAt).Round(time.Millisecond))
	if b := bootstrappers(c.all[2:]); len(b) != 1 {
		t.Errorf("restarted processes that bootstrapped or recovered a group: %v, want exactly one", b)
	}
	st := c.waitStatus(ctx, 0, "a leader", func(st replicaStatus) bool { return st.Cluster.Leader != "" })
	if lastComplete(st) == 0 {
		t.Errorf("the re-formed group lost the checkpoint log: %+v", st.Cluster.Checkpoints)
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, ends)
}

// checkSilentWhileFenced requires that the process p, stopped (SIGSTOP) at
// pausedAt and continued at resumedAt, wrote nothing to the broker from
// resumedAt until it started a task again: its lease ran out during the
// pause. Producers are told apart by the output records written while a
// process ran a store task (output partition N is written by task 1_N only):
// a record in that window is p's if its producer id is p's, or, when p ran no
// store task, if it is none of the others' (the only other processes).
//
// Only the changelog's timestamps say when a record was written (the producer
// stamps them as it sends them). Repartition and output records carry the
// click's own timestamp, so the tasks p legitimately runs again after it
// rejoined write records stamped before they started: a click produced in
// the window and processed after it.
func checkSilentWhileFenced(ctx context.Context, t *testing.T, addr string, p *proc, others []*proc, pausedAt, resumedAt time.Time) {
	t.Helper()
	output := readAll(ctx, t, addr, outputTopic)
	mine := producersOf(output, storeTasksRun(p, pausedAt))
	theirs := map[int64]bool{}
	for _, o := range others {
		maps.Copy(theirs, producersOf(output, storeTasksRun(o, time.Now().Add(time.Hour))))
	}
	if len(mine) == 0 && len(theirs) == 0 {
		t.Fatal("found no output record of a known process")
	}
	restartedAt := firstTaskStartAfter(p, resumedAt)
	if restartedAt.IsZero() {
		restartedAt = time.Now()
	}
	for _, topic := range []string{changelogTopic} {
		for _, r := range readAll(ctx, t, addr, topic) {
			ps := mine[r.ProducerID] || (len(mine) == 0 && !theirs[r.ProducerID])
			if ps && r.Timestamp.After(resumedAt) && r.Timestamp.Before(restartedAt) {
				t.Errorf("%s partition %d offset %d: written by %s at %s, after it continued (%s) and before it started a task again (%s)",
					topic, r.Partition, r.Offset, p.name, r.Timestamp.Format("15:04:05.000"), resumedAt.Format("15:04:05.000"), restartedAt.Format("15:04:05.000"))
			}
		}
	}
	t.Logf("%s wrote nothing between continuing at %s and starting a task again at %s (producers: its own %v, the others' %v)",
		p.name, resumedAt.Format("15:04:05.000"), restartedAt.Format("15:04:05.000"), slices.Collect(maps.Keys(mine)), slices.Collect(maps.Keys(theirs)))
}

// storeRun is a span during which a process ran store task 1_part.
type storeRun struct {
	part     int32
	from, to time.Time
}

// storeTasksRun reads from p's log when it ran which store task, up to until.
func storeTasksRun(p *proc, until time.Time) []storeRun {
	var out []storeRun
	open := map[int32]time.Time{}
	closeOpen := func(at time.Time, only string) {
		for part, from := range open {
			if only == "" || only == fmt.Sprintf("1_%d", part) {
				out = append(out, storeRun{part, from, at})
				delete(open, part)
			}
		}
	}
	for _, line := range strings.Split(p.out.String(), "\n") {
		m := logLineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil || at.After(until) {
			continue
		}
		msg, tm := m[2]+m[3], taskRE.FindStringSubmatch(line)
		switch {
		case msg == "task started" && tm != nil && strings.HasPrefix(tm[1], "1_"):
			n, _ := strconv.Atoi(strings.TrimPrefix(tm[1], "1_"))
			open[int32(n)] = at
		case msg == "task stopped" && tm != nil:
			closeOpen(at, tm[1])
		case strings.HasPrefix(msg, "fenced"):
			closeOpen(at, "")
		}
	}
	closeOpen(until, "")
	return out
}

// producersOf returns the producer ids of the output records written during
// runs.
func producersOf(output []*kgo.Record, runs []storeRun) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range output {
		for _, run := range runs {
			if r.Partition == run.part && r.Timestamp.After(run.from) && r.Timestamp.Before(run.to) {
				out[r.ProducerID] = true
			}
		}
	}
	return out
}

// TestChaosDiscovered is TestChaos for instances that find each other
// through the broker: a random instance (the leader as often as any other)
// is SIGKILLed and started again, each time on a new Raft port, while clicks
// stream. Every click is counted and no task runs on two processes at once.
func TestChaosDiscovered(t *testing.T) {
	kills := envInt(t, "GOFKA_CHAOS_KILLS", 4)
	seed := uint64(envInt(t, "GOFKA_CHAOS_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("chaos: %d kills, GOFKA_CHAOS_SEED=%d", kills, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	ctx := testContext(t, time.Duration(60+kills*25)*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, "--checkpoint-interval", "1s")
	for i := range 3 {
		c.startScaled(i)
	}
	c.everyTaskRunning(ctx, []int{0, 1, 2})

	clicks := makeClicks(0, 30000)
	var produced atomic.Int64
	const chunk = 100
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: chunk, gap: time.Duration(kills*4) * time.Second / (30000 / chunk)})
	var ends []procEnd
	for k := 0; k < kills; k++ {
		victim := rng.IntN(3)
		time.Sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)
		p := c.procs[victim]
		c.kill(victim)
		ends = append(ends, procEnd{p.name, time.Now()})
		t.Logf("kill %d: SIGKILLed %s with %d clicks produced", k+1, p.name, produced.Load())
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
		c.startScaled(victim)
		c.everyTaskRunning(ctx, []int{0, 1, 2})
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	checkComplete(ctx, t, addr, adm, clicks)
	checkNoOverlap(t, c.all, ends)
}

// TestScaleOutWithoutReplicaIDs: instances started as a Kafka Streams user
// starts them, with only --app-id (its default here), a state directory and
// a status address each, and no --replica-id, form one group and share the
// tasks; each counts once.
func TestScaleOutWithoutReplicaIDs(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 2)
	for i := range 2 {
		p := startApp(t, fmt.Sprintf("i%d", i), addr, c.dirs[i], "--status-addr", c.status[i])
		c.procs[i] = p
		c.all = append(c.all, p)
		c.everyTaskRunning(ctx, []int{0, 1}[:i+1])
	}
	clicks := makeClicks(0, 5000)
	produce(ctx, t, cl, clicks)
	checkComplete(ctx, t, addr, adm, clicks)
	checkExact(ctx, t, addr, clicks)
}
