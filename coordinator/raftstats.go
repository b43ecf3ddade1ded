package coordinator

import (
	"github.com/hashicorp/raft"
)

// RaftStats is what a replica's /metrics shows of the Raft group.
type RaftStats struct {
	Term          uint64 // the current Raft term
	LeaderChanges uint64 // leaders this replica learned of (the first included), over all terms
	IsLeader      bool
}

// RaftStats returns the current term, the leader changes seen here and
// whether this replica leads.
func (n *Node) RaftStats() RaftStats {
	r := n.raft()
	if r == nil {
		return RaftStats{}
	}
	return RaftStats{Term: r.CurrentTerm(), LeaderChanges: n.leaderChanges.Load(), IsLeader: r.State() == raft.Leader}
}

// observeLeaders counts the leaders r reports: a Raft observer (non-blocking,
// so it never slows Raft down) sends each change of leader, and one to no
// leader (an election under way) is not counted. The observer of a Raft
// instance replaced by a quorum recovery ends (startRaft calls this with the
// new one, under resetMu or before the node runs).
func (n *Node) observeLeaders(r *raft.Raft) {
	if n.stopObserver != nil {
		close(n.stopObserver)
	}
	stop := make(chan struct{})
	n.stopObserver = stop
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.RegisterObserver(obs)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer r.DeregisterObserver(obs)
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-stop:
				return
			case o := <-ch:
				if lo := o.Data.(raft.LeaderObservation); lo.LeaderID != "" {
					n.leaderChanges.Add(1)
				}
			}
		}
	}()
}
