package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// What the leader keeps in memory (not in the log): when it last heard from
// each member, when it last acknowledged one (which bounds that member's
// lease), and what each reported running.
type leaderState struct {
	start time.Time
	kick  chan struct{}

	mu        sync.Mutex
	heard     map[string]time.Time
	okAt      map[string]time.Time
	reports   map[string]*report
	pending   map[TaskID]time.Time // free tasks waiting for their last owner, since
	gone      map[string]bool      // dead members whose process is known to have stopped
	lastVoter time.Time
}

type report struct {
	Incarnation  uint64
	AppliedEpoch uint64
	Running      map[TaskID]bool
	Lags         map[string]int64
	StandbyLags  map[string]int64 // changelog records each standby is behind
	At           time.Time
}

func newLeaderState(now time.Time) *leaderState {
	return &leaderState{start: now, kick: make(chan struct{}, 1), heard: map[string]time.Time{},
		okAt: map[string]time.Time{}, reports: map[string]*report{}, pending: map[TaskID]time.Time{}, gone: map[string]bool{}}
}

func (ls *leaderState) kickLoop() {
	select {
	case ls.kick <- struct{}{}:
	default:
	}
}

// lastHeard is when the member was last heard from; a new leader counts
// every member as heard when it took over (a grace period), so that a change
// of leader does not kill anyone.
func (ls *leaderState) lastHeard(addr string) time.Time {
	if t, ok := ls.heard[addr]; ok {
		return t
	}
	return ls.start
}

// lastOK is when the member's last acknowledged heartbeat arrived. The
// member's lease ran out at most 2/3 FailureTimeout after it sent that
// heartbeat, so FailureTimeout after lastOK it certainly has.
func (ls *leaderState) lastOK(addr string) time.Time {
	if t, ok := ls.okAt[addr]; ok {
		return t
	}
	return ls.start
}

// watchLeadership runs the leader loop while this node leads.
func (n *Node) watchLeadership() {
	var stop context.CancelFunc
	var done chan struct{}
	end := func() {
		if stop != nil {
			stop()
			<-done
			stop = nil
		}
	}
	defer end()
	for {
		select {
		case <-n.ctx.Done():
			return
		case leader := <-n.leaderCh:
			end()
			if leader {
				ctx, cancel := context.WithCancel(n.ctx)
				stop, done = cancel, make(chan struct{})
				go func() {
					defer close(done)
					n.leaderLoop(ctx)
				}()
			}
		}
	}
}

func (n *Node) leaderLoop(ctx context.Context) {
	start := time.Now()
	// Apply everything earlier leaders committed before deciding anything.
	if err := n.raft().Barrier(10 * time.Second).Error(); err != nil {
		n.log.Warn("coordinator: became leader but the barrier failed", "err", err)
		return
	}
	ls := newLeaderState(start)
	n.mu.Lock()
	for _, addr := range n.knownGone {
		ls.gone[addr] = true
	}
	n.mu.Unlock()
	n.leading.Store(ls)
	defer n.leading.Store(nil)
	n.log.Info("coordinator: leading", "term", n.raft().CurrentTerm(), "ready_after", time.Since(start).Round(time.Millisecond))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-ls.kick:
		}
		if n.raft().State() != raft.Leader {
			return
		}
		if n.cfg.Discovery != nil && !n.cfg.Discovery.Standing() {
			continue // it may have been replaced: decide nothing (see recover.go)
		}
		n.leaderTick(ls)
	}
}

// leaderTick makes at most one decision of each kind and commits it; the
// next tick sees the result.
func (n *Node) leaderTick(ls *leaderState) {
	now := time.Now()
	v := n.fsm.view()
	v.stateful, v.maxWarmups = n.statefulSet, n.cfg.MaxWarmupReplicas
	if n.detectFailure(ls, v, now) || n.detectStuck(ls, v, now) {
		return
	}
	n.reconcileVoters(ls, v, now)

	// Assignment. Re-planned on every tick, so that a warm-up that caught
	// up is acted on (Kafka Streams' probing rebalance).
	ls.mu.Lock()
	moves, reason := plan(n.fsm.tasks, v, func(t TaskID) bool { return n.mayAssignLocked(ls, v, t, now) },
		func(t TaskID, m string) bool { return n.standbyCaughtUpLocked(ls, v, t, m) })
	ls.mu.Unlock()
	if len(moves) == 0 {
		moves = planStandbys(n.cfg.StatefulTasks, v, n.cfg.StandbyReplicas)
		reason = describeStandbys(moves)
	}
	if len(moves) > 0 {
		_, err := n.apply(command{Op: opAssign, BaseEpoch: v.epoch, Moves: moves, Reason: reason})
		if err != nil && !errors.Is(err, errStaleEpoch) {
			n.log.Warn("coordinator: commit assignment", "err", err)
		}
		return
	}
	n.tickCheckpoints(ls, v, now)
}

// detectFailure declares dead the first alive member not heard from for
// FailureTimeout (or known gone); it reports whether it did.
func (n *Node) detectFailure(ls *leaderState, v view, now time.Time) bool {
	for _, addr := range sortedKeys(v.members) {
		m := v.members[addr]
		if m.State != MemberAlive {
			continue
		}
		ls.mu.Lock()
		silent := now.Sub(ls.lastHeard(addr))
		gone := ls.gone[addr]
		ls.mu.Unlock()
		if gone {
			n.declareDead(m, "gone: the group recovered its quorum without it")
			return true
		}
		if silent >= n.cfg.FailureTimeout {
			n.declareDead(m, fmt.Sprintf("not heard from for %s", silent.Round(time.Millisecond)))
			return true
		}
	}
	return false
}

// detectStuck declares dead a live member that does not stop a task taken
// from it within HandoverTimeout: it fences itself, and the task moves once
// its lease has certainly run out. It reports whether it did.
func (n *Node) detectStuck(ls *leaderState, v view, now time.Time) bool {
	ls.mu.Lock()
	for t := range ls.pending {
		if _, owned := v.owner[t]; owned {
			delete(ls.pending, t)
		}
	}
	var stuck *member
	var stuckTask TaskID
	for _, t := range n.fsm.tasks {
		if _, owned := v.owner[t]; owned {
			continue
		}
		last, ok := v.members[v.lastOwner[t]]
		if !ok || last.State != MemberAlive || n.mayAssignLocked(ls, v, t, now) {
			delete(ls.pending, t)
			continue
		}
		since, ok := ls.pending[t]
		if !ok {
			ls.pending[t] = now
			continue
		}
		if now.Sub(since) >= n.cfg.HandoverTimeout && stuck == nil {
			stuck, stuckTask = &last, t
		}
	}
	ls.mu.Unlock()
	if stuck == nil {
		return false
	}
	n.declareDead(*stuck, fmt.Sprintf("did not stop task %s within %s of its release", stuckTask, n.cfg.HandoverTimeout))
	return true
}

// tickCheckpoints aborts the in-flight checkpoint once it timed out, or
// starts the next one on time when every task runs.
func (n *Node) tickCheckpoints(ls *leaderState, v view, now time.Time) {
	if cp := v.inflight; cp != nil {
		if age := now.Sub(cp.Started); age >= n.cfg.CheckpointTimeout {
			_, err := n.apply(command{Op: opCkptAbort, Checkpoint: cp.ID,
				Reason: fmt.Sprintf("timed out after %s with %d of %d acks", age.Round(time.Millisecond), len(cp.Acks), len(cp.Expected))})
			if err != nil {
				n.log.Warn("coordinator: abort checkpoint", "checkpoint", cp.ID, "err", err)
			}
		}
		return
	}
	if n.cfg.CheckpointInterval > 0 && len(n.fsm.tasks) > 0 && now.Sub(n.lastCheckpointStart()) >= n.cfg.CheckpointInterval && n.allRunning(ls, v) {
		if _, err := n.startCheckpoint(v.epoch); err != nil && !errors.Is(err, errStaleEpoch) && !errors.Is(err, errCheckpointActive) {
			n.log.Warn("coordinator: start checkpoint", "err", err)
		}
	}
}

// mayAssignLocked says whether free task t may go to a member other than
// its last owner: nobody else can still be running it. ls.mu is held.
func (n *Node) mayAssignLocked(ls *leaderState, v view, t TaskID, now time.Time) bool {
	last := v.lastOwner[t]
	if last == "" {
		return true
	}
	m, ok := v.members[last]
	if !ok || m.State == MemberLeft {
		return true // a leaving replica dropped its lease before it asked to leave
	}
	if m.State == MemberDead {
		return ls.gone[last] || now.Sub(ls.lastOK(last)) >= n.cfg.FailureTimeout
	}
	r := ls.reports[last]
	return r != nil && r.Incarnation == m.Incarnation && r.AppliedEpoch >= v.releasedAt[t] && !r.Running[t]
}

// allRunning says whether every task has an owner that reports it running at
// the current epoch.
func (n *Node) allRunning(ls *leaderState, v view) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, t := range n.fsm.tasks {
		o := v.owner[t]
		if o == "" {
			return false
		}
		r := ls.reports[o]
		if r == nil || r.AppliedEpoch != v.epoch || !r.Running[t] {
			return false
		}
	}
	return true
}

func (n *Node) lastCheckpointStart() time.Time {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	if l := n.fsm.ckpt.Log; len(l) > 0 {
		return l[len(l)-1].Started
	}
	return time.Time{}
}

func (n *Node) startCheckpoint(epoch uint64) (uint64, error) {
	res, err := n.apply(command{Op: opCkptStart, BaseEpoch: epoch, Expected: n.fsm.tasks})
	return res.Checkpoint, err
}

func (n *Node) declareDead(m member, reason string) {
	n.log.Warn("coordinator: declaring a member dead", "member", displayName(&m), "reason", reason)
	if _, err := n.apply(command{Op: opDead, Addr: m.Addr, Incarnation: m.Incarnation, Reason: reason}); err != nil {
		n.log.Warn("coordinator: declare dead", "member", m.Addr, "err", err)
	}
}

// apply commits a command and returns what the FSM made of it.
func (n *Node) apply(c command) (applyResult, error) {
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	data, err := json.Marshal(c)
	if err != nil {
		return applyResult{}, err
	}
	f := n.raft().Apply(data, 5*time.Second)
	if err := f.Error(); err != nil {
		return applyResult{}, fmt.Errorf("commit %s: %w", c.Op, err)
	}
	res, _ := f.Response().(applyResult)
	return res, res.Err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
