package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/coordinator"
)

// TestChaos streams clicks into three replicas while a random replica (the
// leader as often as any other) is SIGKILLed and restarted, again and again.
// Afterwards every click must be counted at least once, and no task may have
// run on two live replicas at the same time: checked on the replicas' own logs
// (when each started and stopped each task, and when the test killed it), and
// on the coordinator's assignment history (a task moves between two live
// replicas only through "unassigned").
//
// Bounded in time and count; `make chaos` runs it longer through the
// environment: GOFKA_CHAOS_KILLS (default 4), GOFKA_CHAOS_CLICKS (default
// 30000), GOFKA_CHAOS_SEED (default: the clock, logged so a failure replays).
func TestChaos(t *testing.T) {
	r := runChaos(t, 4, 30000)
	checkComplete(r.ctx, t, r.addr, r.adm, r.clicks)
	r.checkOwnership()
}

// TestChaosExactlyOnce is TestChaos under --guarantee exactly-once (smaller in
// make test: 3 kills, 10,000 clicks): afterwards the committed output holds, for
// every user, exactly the counts 1, 2, …, n, and no transaction is left open.
func TestChaosExactlyOnce(t *testing.T) {
	r := runChaos(t, 3, 10000, eosFlag...)
	waitCounts(r.ctx, t, committedTail(t, r.addr), r.clicks)
	if err := poll(r.ctx, "the group commits all input", func() (bool, error) {
		ok, _, err := consumedAll(r.ctx, r.adm)
		return ok, err
	}); err != nil {
		t.Error(err)
	}
	r.checkOwnership()
	for i := range r.c.procs {
		stopClean(r.ctx, t, r.c.procs[i])
	}
	checkExactlyOnce(r.ctx, t, r.addr, r.clicks)
}

// chaosRun is what a chaos run leaves to check.
type chaosRun struct {
	t      *testing.T
	ctx    context.Context
	c      *cluster
	addr   string
	adm    *kadm.Client
	clicks []inClick
	ends   []procEnd // when the test killed each process
}

// runChaos starts three replicas with extra flags, streams the clicks and kills
// and restarts random replicas while they arrive (GOFKA_CHAOS_KILLS and
// GOFKA_CHAOS_CLICKS override the counts).
func runChaos(t *testing.T, defKills, defClicks int, extra ...string) *chaosRun {
	kills := envInt(t, "GOFKA_CHAOS_KILLS", defKills)
	total := envInt(t, "GOFKA_CHAOS_CLICKS", defClicks)
	seed := uint64(envInt(t, "GOFKA_CHAOS_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("chaos: %d kills, %d clicks, GOFKA_CHAOS_SEED=%d", kills, total, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	ctx := testContext(t, time.Duration(60+kills*20)*time.Second)

	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, append([]string{"--checkpoint-interval", "1s"}, extra...)...)
	c.startAll()
	c.everyTaskRunning(ctx, []int{0, 1, 2})

	clicks := makeClicks(0, total)
	var produced atomic.Int64
	// Spread evenly over about 4 seconds per kill.
	const chunk = 100
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: chunk, gap: time.Duration(kills*4) * time.Second / time.Duration(max(1, total/chunk))})

	r := &chaosRun{t: t, ctx: ctx, c: c, addr: addr, adm: adm, clicks: clicks}
	for k := 0; k < kills; k++ {
		victim := rng.IntN(3)
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Duration(1000+rng.IntN(2000)) * time.Millisecond):
		}
		p := c.procs[victim]
		c.kill(victim)
		r.ends = append(r.ends, procEnd{p.name, time.Now()})
		t.Logf("kill %d: SIGKILLed %s with %d clicks produced", k+1, p.name, produced.Load())
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
		c.start(victim)
		// One replica down at a time: three voters keep a quorum.
		c.everyTaskRunning(ctx, []int{0, 1, 2})
	}
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	return r
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
