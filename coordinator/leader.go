package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	lastVoter time.Time
}

type report struct {
	Incarnation  uint64
	AppliedEpoch uint64
	Running      map[TaskID]bool
	Lags         map[string]int64
	At           time.Time
}

func newLeaderState(now time.Time) *leaderState {
	return &leaderState{start: now, kick: make(chan struct{}, 1), heard: map[string]time.Time{},
		okAt: map[string]time.Time{}, reports: map[string]*report{}, pending: map[TaskID]time.Time{}}
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
		case leader := <-n.raft.LeaderCh():
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
	if err := n.raft.Barrier(10 * time.Second).Error(); err != nil {
		n.log.Warn("coordinator: became leader but the barrier failed", "err", err)
		return
	}
	ls := newLeaderState(start)
	n.leading.Store(ls)
	defer n.leading.Store(nil)
	n.log.Info("coordinator: leading", "term", n.raft.CurrentTerm(), "ready_after", time.Since(start).Round(time.Millisecond))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-ls.kick:
		}
		if n.raft.State() != raft.Leader {
			return
		}
		n.leaderTick(ls)
	}
}

// leaderTick makes at most one decision of each kind and commits it; the
// next tick sees the result.
func (n *Node) leaderTick(ls *leaderState) {
	now := time.Now()
	v := n.fsm.view()
	ft := n.cfg.FailureTimeout

	// Failure detection.
	for _, addr := range sortedKeys(v.members) {
		m := v.members[addr]
		if m.State != MemberAlive {
			continue
		}
		ls.mu.Lock()
		silent := now.Sub(ls.lastHeard(addr))
		ls.mu.Unlock()
		if silent >= ft {
			n.declareDead(m, fmt.Sprintf("not heard from for %s", silent.Round(time.Millisecond)))
			return
		}
	}

	// A live member that does not stop a task taken from it in time is
	// declared dead: it fences itself, and the task moves once its lease
	// has certainly run out.
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
	if stuck != nil {
		n.declareDead(*stuck, fmt.Sprintf("did not stop task %s within %s of its release", stuckTask, n.cfg.HandoverTimeout))
		return
	}

	n.reconcileVoters(ls, v, now)

	// Assignment.
	ls.mu.Lock()
	moves, reason := plan(n.fsm.tasks, v, func(t TaskID) bool { return n.mayAssignLocked(ls, v, t, now) })
	ls.mu.Unlock()
	if len(moves) > 0 {
		_, err := n.apply(command{Op: opAssign, BaseEpoch: v.epoch, Moves: moves, Reason: reason})
		if err != nil && !errors.Is(err, errStaleEpoch) {
			n.log.Warn("coordinator: commit assignment", "err", err)
		}
		return
	}

	// Checkpoints.
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
		return now.Sub(ls.lastOK(last)) >= n.cfg.FailureTimeout
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

// reconcileVoters keeps Config.Voters alive voters: it promotes an alive
// non-voter when voters are missing, then drops a dead voter beyond the
// count. At most one change per second.
func (n *Node) reconcileVoters(ls *leaderState, v view, now time.Time) {
	if now.Sub(ls.lastVoter) < time.Second {
		return
	}
	ls.lastVoter = now
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	var voters, aliveVoters, deadVoters, candidates, gone []raft.Server
	for _, s := range cf.Configuration().Servers {
		m, known := v.members[string(s.ID)]
		alive := !known || m.State == MemberAlive // a bootstrap voter may not have joined yet
		// Members that left, and dead non-voters (which vote on nothing and
		// would only make Raft retry them forever), leave the
		// configuration; one that comes back is added again when it joins.
		if known && s.ID != raft.ServerID(n.addr) && (m.State == MemberLeft || (m.State == MemberDead && s.Suffrage != raft.Voter)) {
			gone = append(gone, s)
		}
		if s.Suffrage == raft.Voter {
			voters = append(voters, s)
			if alive {
				aliveVoters = append(aliveVoters, s)
			} else if s.ID != raft.ServerID(n.addr) {
				deadVoters = append(deadVoters, s)
			}
		} else if known && alive {
			candidates = append(candidates, s)
		}
	}
	switch {
	case len(gone) > 0:
		s := gone[0]
		n.log.Info("coordinator: removing a member that left or a dead non-voter from the raft configuration", "server", s.ID)
		if err := n.raft.RemoveServer(s.ID, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: remove server", "server", s.ID, "err", err)
		}
	case len(aliveVoters) < n.cfg.Voters && len(candidates) > 0:
		s := candidates[0]
		n.log.Info("coordinator: promoting a non-voter", "server", s.ID, "alive_voters", len(aliveVoters), "want", n.cfg.Voters)
		if err := n.raft.AddVoter(s.ID, s.Address, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: promote", "server", s.ID, "err", err)
		}
	case len(voters) > n.cfg.Voters && len(deadVoters) > 0 && len(aliveVoters) >= n.cfg.Voters:
		s := deadVoters[0]
		n.log.Info("coordinator: removing a dead voter replaced by a promoted one", "server", s.ID)
		if err := n.raft.RemoveServer(s.ID, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: remove server", "server", s.ID, "err", err)
		}
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
	f := n.raft.Apply(data, 5*time.Second)
	if err := f.Error(); err != nil {
		return applyResult{}, fmt.Errorf("commit %s: %w", c.Op, err)
	}
	res, _ := f.Response().(applyResult)
	return res, res.Err
}

// handOverLeadership transfers leadership to another voter, promoting an
// alive non-voter first when there is no other voter.
func (n *Node) handOverLeadership(ctx context.Context) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return err
	}
	otherVoter := false
	var candidate *raft.Server
	for _, s := range cf.Configuration().Servers {
		if s.ID == raft.ServerID(n.addr) {
			continue
		}
		if s.Suffrage == raft.Voter {
			otherVoter = true
		} else if m, ok := n.fsm.member(string(s.ID)); ok && m.State == MemberAlive && candidate == nil {
			candidate = &s
		}
	}
	if !otherVoter {
		if candidate == nil {
			return errors.New("no other replica can take over the leadership")
		}
		if err := n.raft.AddVoter(candidate.ID, candidate.Address, 0, 5*time.Second).Error(); err != nil {
			return fmt.Errorf("promote %s to take over the leadership: %w", candidate.ID, err)
		}
	}
	var last error
	for ctx.Err() == nil {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			last = err
		}
		if !n.IsLeader() {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("transfer leadership: %w (last error: %v)", ctx.Err(), last)
}

// ---- control RPC handlers (run on the leader) ----

// ready returns the leader state, or answers 503 while the leader is still
// catching up with the log.
func (n *Node) ready(w http.ResponseWriter) *leaderState {
	ls := n.leading.Load()
	if ls == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("leader not ready yet"))
	}
	return ls
}

func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request, body []byte) {
	var req joinRequest
	if err := decode(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := checkHostPort(req.Addr); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("join: address: %w", err))
		return
	}
	ls := n.ready(w)
	if ls == nil {
		return
	}
	// A replica id is unique to one replica (and its state directory, which
	// one process at a time can lock): a member joining with the id of a live
	// member at another address is that replica restarted elsewhere (a single
	// replica on a free port, a pod rescheduled with a new address), so its
	// old incarnation is declared dead now rather than after the failure
	// timeout, and its tasks come back at once.
	if req.ID != "" {
		for _, m := range n.fsm.view().members {
			if m.ID == req.ID && m.Addr != req.Addr && m.State == MemberAlive {
				n.declareDead(m, "replaced: replica "+req.ID+" rejoined at "+req.Addr)
			}
		}
	}
	if err := n.addToRaft(req.Addr); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("join %s: %w", req.Addr, err))
		return
	}
	// Heard now: the failure timeout counts from the join.
	ls.mu.Lock()
	ls.heard[req.Addr] = time.Now()
	ls.mu.Unlock()
	res, err := n.apply(command{Op: opJoin, Addr: req.Addr, ID: req.ID, StatusAddr: req.StatusAddr})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("join %s: %w", req.Addr, err))
		return
	}
	ls.mu.Lock()
	if rep := ls.reports[req.Addr]; rep != nil && rep.Incarnation != res.Incarnation {
		delete(ls.reports, req.Addr)
	}
	ls.mu.Unlock()
	ls.kickLoop()
	writeJSON(w, joinResponse{Incarnation: res.Incarnation, Epoch: res.Epoch})
}

// addToRaft adds addr to the Raft configuration if it is not there: as a
// voter while fewer than Config.Voters voters are alive, else as a
// non-voter.
func (n *Node) addToRaft(addr string) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return err
	}
	aliveVoters := 0
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == addr {
			return nil
		}
		if s.Suffrage == raft.Voter {
			if m, ok := n.fsm.member(string(s.ID)); !ok || m.State == MemberAlive {
				aliveVoters++
			}
		}
	}
	id, a := raft.ServerID(addr), raft.ServerAddress(addr)
	if aliveVoters < n.cfg.Voters {
		n.log.Info("coordinator: adding a voter", "server", addr)
		return n.raft.AddVoter(id, a, 0, 5*time.Second).Error()
	}
	n.log.Info("coordinator: adding a non-voter", "server", addr)
	return n.raft.AddNonvoter(id, a, 0, 5*time.Second).Error()
}

func (n *Node) handleLeave(w http.ResponseWriter, r *http.Request, body []byte) {
	var req leaveRequest
	if err := decode(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ls := n.ready(w)
	if ls == nil {
		return
	}
	if req.Addr == n.addr {
		writeError(w, http.StatusServiceUnavailable, errors.New("the leader cannot remove itself; it hands leadership over first"))
		return
	}
	if _, err := n.apply(command{Op: opLeave, Addr: req.Addr}); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("leave %s: %w", req.Addr, err))
		return
	}
	if err := n.raft.RemoveServer(raft.ServerID(req.Addr), 0, 5*time.Second).Error(); err != nil {
		n.log.Warn("coordinator: remove a leaving member from the raft configuration; retrying later", "server", req.Addr, "err", err)
	}
	ls.kickLoop()
	writeJSON(w, struct{}{})
}

func (n *Node) handleHeartbeat(w http.ResponseWriter, r *http.Request, body []byte) {
	recv := time.Now()
	var req heartbeatRequest
	if err := decode(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ls := n.ready(w)
	if ls == nil {
		return
	}
	// Only a leader a quorum still follows may extend a lease: a deposed
	// leader that has not noticed yet must not.
	if err := n.raft.VerifyLeader().Error(); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("leadership not confirmed: %w", err))
		return
	}
	resp := heartbeatResponse{}
	m, ok := n.fsm.member(req.Addr)
	switch {
	case !ok:
		resp.Status = hbUnknown
	case m.State == MemberDead:
		resp.Status = hbDead
	case m.State == MemberLeft:
		resp.Status = hbLeft
	case m.Incarnation != req.Incarnation:
		resp.Status = hbStale
	default:
		resp.Status = hbOK
	}
	if resp.Status == hbOK {
		rep := &report{Incarnation: req.Incarnation, AppliedEpoch: req.AppliedEpoch, Running: map[TaskID]bool{}, Lags: req.Lags, At: recv}
		for _, t := range req.Running {
			rep.Running[t] = true
		}
		ls.mu.Lock()
		prev := ls.reports[req.Addr]
		ls.heard[req.Addr] = recv
		ls.okAt[req.Addr] = recv
		ls.reports[req.Addr] = rep
		ls.mu.Unlock()
		if prev == nil || prev.AppliedEpoch != rep.AppliedEpoch || len(prev.Running) != len(rep.Running) {
			ls.kickLoop() // a handover or a checkpoint may be waiting for this
		}
	}
	resp.Mine, resp.Epoch = n.fsm.mine(req.Addr)
	writeJSON(w, resp)
}

func (n *Node) handleAck(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ackRequest
	if err := decode(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if n.ready(w) == nil {
		return
	}
	res, err := n.apply(command{Op: opCkptAck, Addr: req.Addr, Checkpoint: req.Checkpoint, Task: req.Task, Ack: req.Ack})
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrEnqueueTimeout) || errors.Is(err, raft.ErrRaftShutdown) {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, err)
		return
	}
	writeJSON(w, ackResponse{Complete: res.Complete})
}

func (n *Node) handleStart(w http.ResponseWriter, r *http.Request, body []byte) {
	if n.ready(w) == nil {
		return
	}
	id, err := n.startCheckpoint(n.fsm.view().epoch)
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, errStaleEpoch) {
			status = http.StatusServiceUnavailable // retry with the new epoch
		}
		writeError(w, status, err)
		return
	}
	writeJSON(w, startResponse{Checkpoint: id})
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	writeJSON(w, n.Status())
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
