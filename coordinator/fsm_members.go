package coordinator

import (
	"fmt"
	"slices"
)

// Membership commands: join, dead, leave.

// applyJoin makes c.Addr an alive member. A join from a member that is
// already alive (a retried join, or a replica that restarted before it was
// declared dead) keeps its incarnation; otherwise the join's log index is the
// new incarnation.
func (f *fsm) applyJoin(index uint64, c *command, eff *effects) applyResult {
	m := f.members[c.Addr]
	if m != nil && m.State == MemberAlive {
		if m.ID != c.ID || m.StatusAddr != c.StatusAddr {
			m.ID, m.StatusAddr = c.ID, c.StatusAddr
			eff.members = true
		}
		return applyResult{Incarnation: m.Incarnation, Epoch: f.asg.Epoch}
	}
	f.members[c.Addr] = &member{Addr: c.Addr, ID: c.ID, StatusAddr: c.StatusAddr, State: MemberAlive,
		JoinedEpoch: f.asg.Epoch, Incarnation: index, Since: c.Time}
	eff.members = true
	return applyResult{Incarnation: index, Epoch: f.asg.Epoch}
}

// applyDead records the leader's decision that one incarnation of a member
// is dead, and releases its tasks. It is rejected if the member has since
// joined again or is no longer alive.
func (f *fsm) applyDead(c *command, eff *effects) applyResult {
	m := f.members[c.Addr]
	if m == nil {
		return applyResult{Err: fmt.Errorf("member %s is unknown", c.Addr)}
	}
	if m.State != MemberAlive || (c.Incarnation != 0 && c.Incarnation != m.Incarnation) {
		return applyResult{Err: fmt.Errorf("member %s is %s (incarnation %d), not the incarnation %d declared dead", c.Addr, m.State, m.Incarnation, c.Incarnation)}
	}
	f.release(m, MemberDead, c, "declared dead: "+c.Reason, eff)
	return applyResult{Epoch: f.asg.Epoch}
}

// applyLeave records a member's clean leave and releases its tasks; leaving
// twice, or without having joined, changes nothing.
func (f *fsm) applyLeave(c *command, eff *effects) applyResult {
	m := f.members[c.Addr]
	if m == nil || m.State == MemberLeft {
		return applyResult{Epoch: f.asg.Epoch}
	}
	f.release(m, MemberLeft, c, "left", eff)
	return applyResult{Epoch: f.asg.Epoch}
}

// release sets m's state and takes every task it owns, and every standby it
// keeps, away from it, as one new epoch.
func (f *fsm) release(m *member, state MemberState, c *command, why string, eff *effects) {
	m.State = state
	m.Since = c.Time
	eff.members = true
	var moves []TaskMove
	for _, t := range f.tasks {
		if f.asg.Owner[t] == m.Addr {
			moves = append(moves, TaskMove{Task: t, From: m.Addr})
		}
		if slices.Contains(f.asg.Standby[t], m.Addr) {
			moves = append(moves, TaskMove{Task: t, From: m.Addr, Standby: true, Warmup: f.asg.Warmup[t] == m.Addr})
		}
	}
	if len(moves) > 0 {
		f.commitMoves(c.Time, fmt.Sprintf("%s %s", displayName(m), why), moves, eff)
	}
}
