package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// Who votes: voters added as members join, non-voters promoted when voters
// are missing, dead or surplus voters removed or demoted, and leadership
// handed over on a clean leave.

// voterTarget is how many alive voters the group wants: Config.Voters with
// static peers; with Discovery, the members come and go, and the group keeps
// an odd number of voters, at most Config.Voters: 1 for 1 or 2 alive
// members, 3 for 3 or 4, 5 beyond (an even number would only add a voter
// whose loss stops the group). Servers of the configuration that have not
// joined yet (a bootstrap voter) count as alive, and so does joining, a
// member about to join.
func (n *Node) voterTarget(v view, conf raft.Configuration, joining string) int {
	if n.cfg.Discovery == nil {
		return n.cfg.Voters
	}
	alive := map[string]bool{}
	for addr, m := range v.members {
		if m.State == MemberAlive {
			alive[addr] = true
		}
	}
	for _, s := range conf.Servers {
		if _, known := v.members[string(s.ID)]; !known {
			alive[string(s.ID)] = true
		}
	}
	if joining != "" {
		alive[joining] = true
	}
	return oddVoters(len(alive), n.cfg.Voters)
}

// oddVoters is the largest odd number of voters, at most limit (and at least
// 1), among alive members.
func oddVoters(alive, limit int) int {
	if alive%2 == 0 {
		alive--
	}
	return max(1, min(alive, limit))
}

// reconcileVoters keeps voterTarget alive voters: it promotes an alive
// non-voter when voters are missing, then drops a dead voter beyond the
// count, or demotes an alive one: promotions at once, other changes at most
// once a second.
func (n *Node) reconcileVoters(ls *leaderState, v view, now time.Time) {
	cf := n.raft().GetConfiguration()
	if cf.Error() != nil {
		return
	}
	if n.addMissingMember(v, cf.Configuration()) {
		return
	}
	target := n.voterTarget(v, cf.Configuration(), "")
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
	// Promotions go at once (a group growing from 1 voter to 3 passes
	// through 2, which cannot lose one); removals at most once a second.
	if len(aliveVoters) < target && len(candidates) > 0 {
		s := candidates[0]
		n.log.Info("coordinator: promoting a non-voter", "server", s.ID, "alive_voters", len(aliveVoters), "want", target)
		if err := n.raft().AddVoter(s.ID, s.Address, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: promote", "server", s.ID, "err", err)
		}
		return
	}
	if now.Sub(ls.lastVoter) < time.Second {
		return
	}
	ls.lastVoter = now
	switch {
	case len(gone) > 0:
		s := gone[0]
		n.log.Info("coordinator: removing a member that left or a dead non-voter from the raft configuration", "server", s.ID)
		if err := n.raft().RemoveServer(s.ID, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: remove server", "server", s.ID, "err", err)
		}
	case len(voters) > target && len(deadVoters) > 0 && len(aliveVoters) >= target:
		s := deadVoters[0]
		n.log.Info("coordinator: removing a dead voter replaced by a promoted one", "server", s.ID)
		if err := n.raft().RemoveServer(s.ID, 0, 5*time.Second).Error(); err != nil {
			n.log.Warn("coordinator: remove server", "server", s.ID, "err", err)
		}
	case len(aliveVoters) > target:
		for _, s := range aliveVoters {
			if s.ID == raft.ServerID(n.addr) {
				continue
			}
			n.log.Info("coordinator: demoting a voter to keep an odd number of them", "server", s.ID, "alive_voters", len(aliveVoters), "want", target)
			if err := n.raft().DemoteVoter(s.ID, 0, 5*time.Second).Error(); err != nil {
				n.log.Warn("coordinator: demote", "server", s.ID, "err", err)
			}
			break
		}
	}
}

// addMissingMember adds to the Raft configuration an alive member that is
// not in it, and reports whether it tried. A join is normally what adds a
// member (addToRaft), but a removal can commit after it: a replica that left
// (SIGTERM) and started again at once joins while the leave's RemoveServer is
// still in flight. Out of the configuration, no leader ever contacts it, so
// it would never learn who leads, nor that it was declared dead.
func (n *Node) addMissingMember(v view, conf raft.Configuration) bool {
	for addr, m := range v.members {
		if m.State != MemberAlive || slices.ContainsFunc(conf.Servers, func(s raft.Server) bool { return string(s.ID) == addr }) {
			continue
		}
		n.log.Info("coordinator: an alive member is missing from the raft configuration; adding it again", "server", addr)
		if err := n.addToRaft(addr); err != nil {
			n.log.Warn("coordinator: add a missing member", "server", addr, "err", err)
		}
		return true
	}
	return false
}

// addToRaft adds addr to the Raft configuration if it is not there: as a
// voter while fewer than Config.Voters voters are alive, else as a
// non-voter.
func (n *Node) addToRaft(addr string) error {
	cf := n.raft().GetConfiguration()
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
	if aliveVoters < n.voterTarget(n.fsm.view(), cf.Configuration(), addr) {
		n.log.Info("coordinator: adding a voter", "server", addr)
		return n.raft().AddVoter(id, a, 0, 5*time.Second).Error()
	}
	n.log.Info("coordinator: adding a non-voter", "server", addr)
	return n.raft().AddNonvoter(id, a, 0, 5*time.Second).Error()
}

// handOverLeadership transfers leadership to another voter, promoting an
// alive non-voter first when there is no other voter.
func (n *Node) handOverLeadership(ctx context.Context) error {
	cf := n.raft().GetConfiguration()
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
		if err := n.raft().AddVoter(candidate.ID, candidate.Address, 0, 5*time.Second).Error(); err != nil {
			return fmt.Errorf("promote %s to take over the leadership: %w", candidate.ID, err)
		}
	}
	var last error
	for ctx.Err() == nil {
		if err := n.raft().LeadershipTransfer().Error(); err != nil {
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
