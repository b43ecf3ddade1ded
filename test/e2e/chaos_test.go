package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/coordinator"
)

// TestChaos streams clicks with random users into three replicas while random
// replicas (the leader as often as any other) are SIGKILLed and restarted, or
// stopped cleanly (SIGTERM) and restarted, again and again. Afterwards every
// click must be counted at least once (no loss; the duplicates are reported),
// and no task may have run on two live replicas at the same time: checked on
// the replicas' own logs (when each started and stopped each task, and when
// the test killed it), and on the coordinator's assignment history (a task
// moves between two live replicas only through "unassigned").
//
// Bounded in time and count; `make chaos` runs it at full size through the
// environment: GOFKA_CHAOS_KILLS (SIGKILLs, default 4; the clean restarts are a
// quarter of them, at least one), GOFKA_CHAOS_CLICKS (default 30000),
// GOFKA_CHAOS_RATE (clicks a second at most, default 12000), GOFKA_CHAOS_SEED
// (default: the clock, logged so that a failure replays: the same users, bots
// and order of faults).
func TestChaos(t *testing.T) {
	r := runChaos(t, 4, 30000)
	r.checkOwnership()
	// Once the group has committed all input, all output is written (at least
	// once: an offset is committed only after its output is flushed).
	waitConsumedAll(r.ctx, t, r.adm)
	got := readOutput(r.ctx, t, r.addr, false)
	want := expectedCounts(r.clicks)
	lost := 0
	for _, u := range slices.Sorted(maps.Keys(want)) {
		if got.latest[u] < want[u] {
			if lost++; lost <= 10 {
				t.Errorf("%s: count %d, want at least %d (a click lost)", u, got.latest[u], want[u])
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d users lost clicks", lost)
	}
	r.summary("at-least-once", got)
}

// TestChaosExactlyOnce is TestChaos under --guarantee exactly-once (smaller in
// make test: 3 SIGKILLs, 1 clean restart, 10,000 clicks): afterwards a
// read_committed consumer finds, for every user, exactly the counts 1, 2, …, n
// in order, n the user's real clicks counted from the input independently, and
// no transaction of the application is left open (settleExactlyOnce).
func TestChaosExactlyOnce(t *testing.T) {
	r := runChaos(t, 3, 10000, eosFlag...)
	r.checkOwnership()
	got := settleExactlyOnce(r.ctx, t, r.addr, r.adm, committedTail(t, r.addr), r.c.procs, r.clicks)
	r.summary("exactly-once", got)
}

// maxChaosUsers is how many users the chaos input's clicks are drawn from at
// most.
const maxChaosUsers = 10000

// chaosRun is what a chaos run leaves to check.
type chaosRun struct {
	t      *testing.T
	ctx    context.Context
	c      *cluster
	addr   string
	adm    *kadm.Client
	clicks []inClick
	ends   []procEnd // when the test killed each process
	began  time.Time // when the first click was produced
}

// runChaos starts three replicas with extra flags, streams the clicks and
// kills (SIGKILL) or stops (SIGTERM) and restarts random replicas while they
// arrive, in a random order (GOFKA_CHAOS_* override the defaults: TestChaos).
func runChaos(t *testing.T, defKills, defClicks int, extra ...string) *chaosRun {
	kills := envInt(t, "GOFKA_CHAOS_KILLS", defKills)
	total := envInt(t, "GOFKA_CHAOS_CLICKS", defClicks)
	rate := envInt(t, "GOFKA_CHAOS_RATE", 12000)
	seed := uint64(envInt(t, "GOFKA_CHAOS_SEED", int(time.Now().UnixNano()%1e9)))
	rng := rand.New(rand.NewPCG(seed, seed))
	// About 20 clicks per user, so that each user's counts are a sequence to
	// check, up to 10,000 users.
	clicks := randomClicks(rng, total, min(maxChaosUsers, max(1, total/20)))
	// The faults in a random order: true a SIGKILL, false a clean stop.
	faults := make([]bool, kills+max(1, kills/4))
	for i := range kills {
		faults[i] = true
	}
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	// The input streams for about 4 s per fault, or longer at rate clicks a
	// second; each fault comes at a random time in that span (or as soon as
	// the replicas have recovered from the one before). The test's time grows
	// with the faults (a restart and its recovery) and the clicks (processing
	// at 2,000 a second or more).
	span := max(time.Duration(len(faults))*4*time.Second, time.Duration(total)*time.Second/time.Duration(rate))
	at := make([]time.Duration, len(faults))
	for i := range at {
		at[i] = time.Duration(rng.Int64N(int64(span)))
	}
	slices.Sort(at)
	ctx := testContext(t, 2*time.Minute+time.Duration(len(faults))*30*time.Second+2*span+time.Duration(total/2000)*time.Second)
	t.Logf("chaos: %d SIGKILLs, %d clean restarts, %d clicks over %d users in about %v, GOFKA_CHAOS_SEED=%d",
		kills, len(faults)-kills, total, len(expectedCounts(clicks)), span, seed)

	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, append([]string{"--checkpoint-interval", "1s"}, extra...)...)
	c.startAll()
	c.everyTaskRunning(ctx, []int{0, 1, 2})

	var produced atomic.Int64
	chunk := min(500, max(50, total/400))
	began := time.Now()
	streaming := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: chunk, gap: span / time.Duration(max(1, total/chunk))})
	prodDone := make(chan error, 1)
	go func() {
		err := <-streaming
		took := time.Since(began)
		t.Logf("chaos: %d clicks produced in %v (%.0f a second)", produced.Load(), took.Round(time.Second), float64(produced.Load())/took.Seconds())
		prodDone <- err
	}()

	r := &chaosRun{t: t, ctx: ctx, c: c, addr: addr, adm: adm, clicks: clicks, began: began}
	for k, kill := range faults {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Until(began.Add(at[k]))):
		}
		victim := rng.IntN(3)
		r.fault(victim, kill, fmt.Sprintf("fault %d/%d at %v", k+1, len(faults), time.Since(began).Round(time.Second)), produced.Load())
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
		c.start(victim)
		// One replica down at a time: three voters keep a quorum.
		c.everyTaskRunning(ctx, []int{0, 1, 2})
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("chaos: faults done after %v", time.Since(began).Round(time.Second))
	return r
}

// fault kills replica victim (SIGKILL) or stops it cleanly (SIGTERM, exit
// status 0 required), and logs it.
func (r *chaosRun) fault(victim int, kill bool, what string, produced int64) {
	p := r.c.procs[victim]
	if !kill {
		stopClean(r.ctx, r.t, p)
		r.t.Logf("%s: stopped %s cleanly (SIGTERM) with %d clicks produced", what, p.name, produced)
		return
	}
	r.c.kill(victim)
	r.ends = append(r.ends, procEnd{p.name, time.Now()})
	r.t.Logf("%s: SIGKILLed %s with %d clicks produced", what, p.name, produced)
}

// summary logs what a chaos run's output holds: its records, the real clicks,
// the duplicates (records beyond one per real click: clicks processed again
// after a crash) and how many users they concern.
func (r *chaosRun) summary(mode string, got *counts) {
	t, clicks := r.t, r.clicks
	t.Helper()
	want := expectedCounts(clicks)
	users := 0
	for u, n := range want {
		if int64(len(got.updates[u])) > n {
			users++
		}
	}
	t.Logf("chaos summary (%s): %d output records, %d real clicks over %d users, %d duplicates affecting %d users; checked %v after the first click",
		mode, got.records, realClicks(clicks), len(want), got.records-realClicks(clicks), users, time.Since(r.began).Round(time.Second))
}

// waitConsumedAll waits until the group has committed the end of every input
// and repartition partition.
func waitConsumedAll(ctx context.Context, t *testing.T, adm *kadm.Client) {
	t.Helper()
	if err := poll(ctx, "the group commits all input", func() (bool, error) {
		ok, _, err := consumedAll(ctx, adm)
		return ok, err
	}); err != nil {
		_, lag, _ := consumedAll(ctx, adm)
		t.Errorf("%v:%s", err, lag)
	}
}

// checkNoOpenTxn requires, once every replica has stopped, that no
// transactional id of the application (click-count-<task>) is left in an open
// state (Ongoing, PrepareCommit, PrepareAbort, PrepareEpochFence), through the
// admin API (ListTransactions, KIP-664: Kafka 3.0+, and kfake, which reports
// only Empty and Ongoing). A commit's markers are written after EndTxn
// answers, so a Prepare state may still be completing: the check waits for the
// states to settle, but for at most 30 s, half the engine's transaction timeout
// (60 s), so that the broker's own abort of an abandoned transaction cannot
// hide it. On the output topic, readTopic's read_committed reaching the high
// watermark proves the same independently.
func checkNoOpenTxn(ctx context.Context, t *testing.T, adm *kadm.Client) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var ids int
	var open []string
	err := poll(wctx, "no transaction of the application is open", func() (bool, error) {
		txns, err := adm.ListTransactions(wctx, nil, nil)
		if err != nil {
			return false, fmt.Errorf("list transactions: %w", err)
		}
		ids, open = 0, nil
		for _, tx := range txns.Sorted() {
			if !strings.HasPrefix(tx.TxnID, group+"-") {
				continue
			}
			ids++
			switch tx.State {
			case "Empty", "CompleteCommit", "CompleteAbort", "Dead":
			default:
				open = append(open, fmt.Sprintf("%s (producer %d) %s", tx.TxnID, tx.ProducerID, tx.State))
			}
		}
		return len(open) == 0, nil
	})
	switch {
	case err != nil:
		t.Errorf("%v: open after every replica stopped: %v", err, open)
	case ids == 0:
		t.Errorf("the broker lists no transactional id %s-*: the run used no transaction", group)
	default:
		t.Logf("transactions: %d transactional ids of the application, none open", ids)
	}
}

// checkOwnership checks the leader's assignment history and, from the
// replicas' own logs, that no task ran on two live replicas at once.
func (r *chaosRun) checkOwnership() {
	leader := r.c.leader(r.ctx, []int{0, 1, 2})
	st, err := r.c.fullStatusOf(r.ctx, leader)
	if err != nil {
		r.t.Fatal(err)
	}
	checkHistory(r.t, st)
	checkNoOverlap(r.t, r.c.all, r.ends)
}

type procEnd struct {
	name string
	at   time.Time
}

// checkHistory: in the committed assignment history a task never goes from
// one member straight to another unless the first was declared dead (the
// change's reason says so).
func checkHistory(t *testing.T, st fullStatus) {
	t.Helper()
	if len(st.Cluster.History) == 0 {
		t.Fatal("the leader reports no assignment history")
	}
	for _, ch := range st.Cluster.History {
		for _, m := range ch.Moves {
			if m.From != "" && m.To != "" && !strings.Contains(ch.Reason, "dead") && !strings.Contains(ch.Reason, "left") {
				t.Errorf("epoch %d (%s): task %s moved from %s to %s directly while both were members", ch.Epoch, ch.Reason, m.Task, m.From, m.To)
			}
		}
	}
}

var (
	logLineRE = regexp.MustCompile(`^time=(\S+) level=\w+ msg=(?:"([^"]*)"|(\S+))`)
	taskRE    = regexp.MustCompile(` task=(\S+)`)
)

// checkNoOverlap rebuilds, from every process's log, the intervals during which
// it ran each task (a start up to its stop, a fencing, the process's own stop or
// its kill) and fails if two processes' intervals for one task overlap.
func checkNoOverlap(t *testing.T, procs []*proc, ends []procEnd) {
	t.Helper()
	type interval struct {
		proc       string
		start, end time.Time
	}
	killedAt := map[string]time.Time{}
	for _, e := range ends {
		killedAt[e.name] = e.at
	}
	byTask := map[string][]interval{}
	for _, p := range procs {
		open := map[string]time.Time{}
		closeAll := func(at time.Time) {
			for task, s := range open {
				byTask[task] = append(byTask[task], interval{p.name, s, at})
			}
			clear(open)
		}
		var last time.Time
		for _, line := range strings.Split(p.out.String(), "\n") {
			line = strings.TrimSpace(line)
			m := logLineRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				continue
			}
			last = at
			msg, task := m[2]+m[3], ""
			if tm := taskRE.FindStringSubmatch(line); tm != nil {
				task = tm[1]
			}
			switch {
			case msg == "task started" && task != "":
				open[task] = at
			case msg == "task stopped" && task != "":
				if s, ok := open[task]; ok {
					byTask[task] = append(byTask[task], interval{p.name, s, at})
					delete(open, task)
				}
			case strings.HasPrefix(msg, "fenced"):
				closeAll(at)
			}
		}
		if at, ok := killedAt[p.name]; ok {
			closeAll(at)
		} else if p.exited() {
			closeAll(last)
		} else {
			closeAll(time.Now().Add(time.Hour)) // still running
		}
	}
	overlaps := 0
	for task, ivs := range byTask {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].start.Before(ivs[j].start) })
		for i := 1; i < len(ivs); i++ {
			for j := 0; j < i; j++ {
				a, b := ivs[j], ivs[i]
				if a.proc != b.proc && b.start.Before(a.end) {
					overlaps++
					t.Errorf("task %s ran on %s [%s, %s) and on %s from %s: two live replicas at once",
						task, a.proc, a.start.Format("15:04:05.000"), a.end.Format("15:04:05.000"), b.proc, b.start.Format("15:04:05.000"))
				}
			}
		}
	}
	if len(byTask) == 0 {
		t.Fatal("no task intervals found in the replicas' logs")
	}
	t.Logf("ownership: %d tasks, %d overlaps across %d processes", len(byTask), overlaps, len(procs))
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// fullStatus is /status with the coordinator's assignment history.
type fullStatus struct {
	Cluster coordinator.Status `json:"cluster"`
}

func (c *cluster) fullStatusOf(ctx context.Context, i int) (fullStatus, error) {
	var st fullStatus
	err := c.getJSON(ctx, i, &st)
	return st, err
}
