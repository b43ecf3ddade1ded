package coordinator

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// The control RPCs the leader serves: join, leave, heartbeat, checkpoint
// ack and start, status.

// ready returns the leader state, or answers 503 while the leader is still
// catching up with the log.
func (n *Node) ready(w http.ResponseWriter) *leaderState {
	ls := n.leading.Load()
	if ls == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("leader not ready yet"))
		return nil
	}
	if n.cfg.Discovery != nil && !n.cfg.Discovery.Standing() {
		writeError(w, http.StatusServiceUnavailable, errNotStanding)
		return nil
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
	n.replaceEarlier(ls, req)
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
	if err := n.raft().RemoveServer(raft.ServerID(req.Addr), 0, 5*time.Second).Error(); err != nil {
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
	if err := n.raft().VerifyLeader().Error(); err != nil {
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
		rep := &report{Incarnation: req.Incarnation, AppliedEpoch: req.AppliedEpoch, Running: map[TaskID]bool{}, Lags: req.Lags,
			StandbyLags: req.StandbyLags, At: recv}
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
	c := command{Op: opCkptAck, Addr: req.Addr, Checkpoint: req.Checkpoint, Task: req.Task, Ack: req.Ack}
	if req.Error != "" {
		c = command{Op: opCkptAbort, Addr: req.Addr, Checkpoint: req.Checkpoint, Task: req.Task, Reason: req.Error}
	}
	res, err := n.apply(c)
	if err == nil && req.Error != "" {
		n.log.Warn("coordinator: checkpoint aborted by a replica", "checkpoint", req.Checkpoint, "task", req.Task, "replica", req.Addr, "reason", req.Error)
	}
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

// replaceEarlier declares dead the members a join replaces, before it is
// applied. A replica id is unique to one replica: a member joining with the
// id of a live member at another address is that replica restarted elsewhere
// (a single replica on a free port, a pod rescheduled with a new address), so
// its old incarnation is declared dead now rather than after the failure
// timeout. Its tasks still wait for its lease to lapse, unless the joining
// replica names that member's address as the one its data directory last
// joined at (Previous): the process behind it is then certainly gone (it
// released the directory's lock, and a node drops its lease before that), so
// its tasks move at once.
func (n *Node) replaceEarlier(ls *leaderState, req joinRequest) {
	ls.mu.Lock()
	delete(ls.gone, req.Addr)
	prev, hasPrev := n.fsm.member(req.Previous)
	hasPrev = hasPrev && req.Previous != req.Addr && prev.State != MemberLeft
	if hasPrev {
		ls.gone[req.Previous] = true
	}
	ls.mu.Unlock()
	if hasPrev && prev.State == MemberAlive {
		n.declareDead(prev, "replaced: its data directory rejoined at "+req.Addr)
	}
	if req.ID == "" {
		return
	}
	for _, m := range n.fsm.view().members {
		if m.ID == req.ID && m.Addr != req.Addr && m.State == MemberAlive {
			n.declareDead(m, "replaced: replica "+req.ID+" rejoined at "+req.Addr)
		}
	}
}
