package coordinator

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestBootstrapJoinAndStickyRebalance(t *testing.T) {
	c := newCluster(t, 3, 8, nil)
	c.waitReady()
	l := c.leader()

	owners := c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	if got := countsOf(owners); !slices.Equal(got, []int{2, 3, 3}) {
		t.Fatalf("3 members, 8 tasks: counts %v, want [2 3 3]", got)
	}
	st := l.Status()
	if len(st.Members) != 3 {
		t.Fatalf("members: %+v", st.Members)
	}
	for _, m := range st.Members {
		if m.State != MemberAlive || m.Suffrage != "voter" || m.StatusAddr != "status-of-"+m.ID {
			t.Errorf("member %+v: want alive voter with its status address", m)
		}
	}

	// A fourth node joins as a non-voter and gets its share; only the tasks
	// balance needs move.
	d := c.add("n4")
	ctxR, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := d.WaitReady(ctxR); err != nil {
		t.Fatal(err)
	}
	after := c.settled(func(counts map[string]int) bool { return len(counts) == 4 })
	if got := countsOf(after); !slices.Equal(got, []int{2, 2, 2, 2}) {
		t.Fatalf("4 members, 8 tasks: counts %v, want [2 2 2 2]", got)
	}
	moved := 0
	for task, o := range after {
		if owners[task] != o {
			moved++
			if o != d.addr {
				t.Errorf("task %s moved from %s to %s, not to the new member", task, owners[task], o)
			}
		}
	}
	if moved != 2 {
		t.Errorf("%d tasks moved; balance needs exactly 2", moved)
	}
	st = c.leader().Status()
	for _, m := range st.Members {
		want := "voter"
		if m.Addr == d.addr {
			want = "nonvoter"
		}
		if m.Suffrage != want {
			t.Errorf("member %s: suffrage %s, want %s", m.ID, m.Suffrage, want)
		}
	}
	if got := d.Mine(); len(got) != 2 {
		t.Errorf("new member's Mine() = %v", got)
	}
	checkHistory(t, c.leader().fsm.history(maxAssignmentHistory))

	// The leader's status has what members report in heartbeats (asked
	// through a non-leader, which forwards).
	waitFor(t, "the leader's status to show every member's running tasks", func() bool {
		ls, err := d.LeaderStatus(ctxR)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ls.Members {
			if m.LastHeardMillisAgo == nil || len(m.Running) != m.Tasks || len(m.Lags) != m.Tasks {
				return false
			}
		}
		return true
	})
}

func TestCrashedMemberTasksMoveAfterItsLease(t *testing.T) {
	c := newCluster(t, 3, 8, nil)
	c.waitReady()
	l := c.leader()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 })

	var victim *testNode
	for _, n := range c.nodes {
		if n != l {
			victim = n
			break
		}
	}
	lostTasks := victim.Mine()
	epochBefore := l.fsm.view().epoch
	closedAt := time.Now()
	victim.Close()
	victim.eng.close()
	leaseEnd := victim.hooks.leaseAtClose.until

	after := c.settled(func(counts map[string]int) bool { return len(counts) == 2 && counts[victim.addr] == 0 })
	if got := countsOf(after); !slices.Equal(got, []int{4, 4}) {
		t.Errorf("2 members, 8 tasks: counts %v", got)
	}
	m, _ := l.fsm.member(victim.addr)
	if m.State != MemberDead {
		t.Errorf("closed member is %s, want dead", m.State)
	}
	// When did its tasks go to someone else? Not before its lease ended.
	hist := l.fsm.history(maxAssignmentHistory)
	checkHistory(t, hist)
	for _, ch := range hist {
		if ch.Epoch <= epochBefore {
			continue
		}
		for _, mv := range ch.Moves {
			if mv.To != "" && slices.Contains(lostTasks, mv.Task) && !ch.Time.After(leaseEnd) {
				t.Errorf("task %s reassigned at %s, before the closed member's lease ended at %s",
					mv.Task, ch.Time.Format("15:04:05.000"), leaseEnd.Format("15:04:05.000"))
			}
		}
	}
	t.Logf("closed at %s, lease until %s, tasks reassigned within %s", closedAt.Format("15:04:05.000"),
		leaseEnd.Format("15:04:05.000"), time.Since(closedAt).Round(time.Millisecond))

	// It restarts on its directory and address: it joins again (a new
	// incarnation) and gets its share back.
	back := c.start(victim.name+"-again", victim.addr, victim.dir)
	after = c.settled(func(counts map[string]int) bool { return len(counts) == 3 && counts[back.addr] > 0 })
	if got := countsOf(after); !slices.Equal(got, []int{2, 3, 3}) {
		t.Errorf("after the restart: counts %v", got)
	}
	if m2, _ := l.fsm.member(back.addr); m2.State != MemberAlive || m2.Incarnation <= m.Incarnation {
		t.Errorf("restarted member %+v, was incarnation %d", m2, m.Incarnation)
	}
	checkHistory(t, l.fsm.history(maxAssignmentHistory))
}

func TestLeaderCrashFailover(t *testing.T) {
	c := newCluster(t, 3, 8, func(cfg *Config) { cfg.CheckpointInterval = 300 * time.Millisecond })
	c.waitReady()
	old := c.leader()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	waitFor(t, "a complete checkpoint", func() bool {
		return len(old.LatestComplete(c.tasks[0])) > 0
	})
	before := old.Status()
	termBefore := checkRaftStats(t, c.alive(), old)
	crashed := time.Now()
	old.Close()
	old.eng.close()

	l := c.leader()
	if l == old {
		t.Fatal("the closed leader is still the leader")
	}
	elected := time.Since(crashed)
	st := l.Status()
	if len(st.Members) != 3 {
		t.Errorf("members after failover: %d", len(st.Members))
	}
	if st.Epoch < before.Epoch {
		t.Errorf("epoch went back from %d to %d", before.Epoch, st.Epoch)
	}
	after := c.settled(func(counts map[string]int) bool { return len(counts) == 2 && counts[old.addr] == 0 })
	if got := countsOf(after); !slices.Equal(got, []int{4, 4}) {
		t.Errorf("counts after failover %v", got)
	}
	t.Logf("leader crashed: new leader ready after %s, its tasks running elsewhere after %s",
		elected.Round(time.Millisecond), time.Since(crashed).Round(time.Millisecond))
	// Checkpoints go on under the new leader.
	last := before.LastComplete
	waitFor(t, "a checkpoint completed by the new leader", func() bool {
		cps := l.Checkpoints()
		for _, cp := range cps {
			if cp.ID > last && cp.State == CheckpointComplete && cp.Epoch == l.fsm.view().epoch {
				return true
			}
		}
		return false
	})
	checkHistory(t, l.fsm.history(maxAssignmentHistory))
	// A new election: a higher term, and each survivor saw a second leader.
	if term := checkRaftStats(t, c.alive(), l); term <= termBefore {
		t.Errorf("Raft term %d after the leader's crash, %d before: want higher", term, termBefore)
	}
	for _, n := range c.alive() {
		if s := n.RaftStats(); s.LeaderChanges < 2 {
			t.Errorf("%s saw %d leaders, want ≥ 2", n.name, s.LeaderChanges)
		}
	}
}

// checkRaftStats checks what the nodes' RaftStats say: leader alone leads,
// all are in one term (≥ 1) and each has seen a leader. It returns the term.
func checkRaftStats(t *testing.T, nodes []*testNode, leader *testNode) uint64 {
	t.Helper()
	terms := map[uint64]bool{}
	for _, n := range nodes {
		s := n.RaftStats()
		if s.IsLeader != (n == leader) || s.Term < 1 || s.LeaderChanges < 1 {
			t.Errorf("%s: RaftStats %+v; the leader is %s", n.name, s, leader.name)
		}
		terms[s.Term] = true
	}
	if len(terms) != 1 {
		t.Errorf("the nodes are in different terms: %v", terms)
	}
	for term := range terms {
		return term
	}
	return 0
}

func TestPausedMemberIsFencedAndRejoins(t *testing.T) {
	c := newCluster(t, 3, 6, nil)
	c.waitReady()
	l := c.leader()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	var p *testNode
	for _, n := range c.nodes {
		if n != l {
			p = n
			break
		}
	}
	incBefore := p.incarnation
	p.hooks.stalled.Store(true)
	waitFor(t, "the paused member to be fenced", func() bool { return len(p.eng.fencedReasons()) > 0 })
	if valid, _ := p.Lease(); valid {
		t.Error("fenced member still holds a valid lease")
	}
	for _, task := range p.Mine() {
		if p.MayRun(task) {
			t.Errorf("fenced member may still run %s", task)
		}
	}
	waitFor(t, "the paused member to be declared dead", func() bool {
		m, _ := l.fsm.member(p.addr)
		return m.State == MemberDead
	})
	c.settled(func(counts map[string]int) bool { return len(counts) == 2 && counts[p.addr] == 0 })

	p.hooks.stalled.Store(false)
	after := c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	if got := countsOf(after); !slices.Equal(got, []int{2, 2, 2}) {
		t.Errorf("after rejoining: counts %v", got)
	}
	m, _ := l.fsm.member(p.addr)
	if m.State != MemberAlive || m.Incarnation <= incBefore {
		t.Errorf("rejoined member: %+v (incarnation before %d)", m, incBefore)
	}
	t.Logf("fenced with: %v", p.eng.fencedReasons())
	checkHistory(t, l.fsm.history(maxAssignmentHistory))
}

// TestGracefulLeave: members that leave hand their tasks over at once. The
// failure timeout is an hour, so waiting for it would hang the test.
func TestGracefulLeave(t *testing.T) {
	c := newCluster(t, 3, 8, func(cfg *Config) { cfg.FailureTimeout = time.Hour })
	c.waitReady()
	c.add("n4")
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return len(counts) == 4 })

	// A voter that is not the leader leaves: its tasks move without waiting
	// for a failure timeout, and the non-voter is promoted.
	l := c.leader()
	var v *testNode
	for _, n := range c.nodes[:3] {
		if n != l {
			v = n
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	v.eng.close() // the engine stops its tasks first
	if err := v.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	v.Close()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 && counts[v.addr] == 0 })
	if m, _ := l.fsm.member(v.addr); m.State != MemberLeft {
		t.Errorf("left member is %s", m.State)
	}
	waitFor(t, "3 voters again, without the leaver", func() bool {
		cf := l.raft().GetConfiguration()
		if cf.Error() != nil {
			return false
		}
		voters := 0
		for _, s := range cf.Configuration().Servers {
			if s.ID == raft.ServerID(v.addr) {
				return false
			}
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		return voters == 3
	})

	// Now the leader leaves: it hands leadership over first.
	l.eng.close()
	if err := l.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()
	nl := c.leader()
	if nl == l {
		t.Fatal("leader did not change")
	}
	c.settled(func(counts map[string]int) bool { return len(counts) == 2 })
	if m, _ := nl.fsm.member(l.addr); m.State != MemberLeft {
		t.Errorf("old leader is %s after leaving", m.State)
	}
	checkHistory(t, nl.fsm.history(maxAssignmentHistory))
}
