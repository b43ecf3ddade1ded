package coordinator

import "slices"

// What committed commands change for this replica: its tasks (localMine)
// and the events the engine follows.

func (n *Node) mineLocked() []TaskID {
	out := make([]TaskID, 0, len(n.localMine))
	for t := range n.localMine {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTasks)
	return out
}

// Mine returns the tasks the applied assignment gives this replica.
func (n *Node) Mine() []TaskID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mineLocked()
}

// applied turns what a committed command changed into events. It runs on
// Raft's FSM goroutine and never blocks.
func (n *Node) applied(eff effects) {
	// Events are pushed under n.mu, so that they are queued in the order of
	// the local state changes they describe; none goes out while the node
	// replays an old log before (re)joining.
	n.mu.Lock()
	live := n.caughtUpLocked()
	for _, cp := range eff.started {
		if live {
			n.sentStart = cp.ID
			n.events.push(CheckpointStarted{ID: cp.ID, Epoch: cp.Epoch})
		}
	}
	for _, cp := range eff.finished {
		if live {
			n.events.push(CheckpointFinished{ID: cp.ID, Complete: cp.State == CheckpointComplete})
		}
	}
	if eff.assignment {
		mine, epoch := n.fsm.mine(n.addr)
		n.localEpoch = epoch
		n.localMine = make(map[TaskID]bool, len(mine))
		for _, t := range mine {
			n.localMine[t] = true
		}
		n.localStandby = n.fsm.standbys(n.addr)
		if n.caughtUpLocked() {
			n.events.push(AssignmentChanged{Epoch: epoch, Mine: mine, Standby: slices.Clone(n.localStandby)})
		}
	}
	n.mu.Unlock()
	if eff.assignment {
		n.kickHeartbeat()
	}
	if eff.members {
		if m, ok := n.fsm.member(n.addr); ok && m.State == MemberDead {
			n.mu.Lock()
			inc := n.incarnation
			n.mu.Unlock()
			if m.Incarnation == inc {
				n.fence(inc, "declared dead by the leader")
			}
		}
	}
	if ls := n.leading.Load(); ls != nil {
		ls.kickLoop()
	}
}
