package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// A group found through Discovery grows and shrinks as instances start and
// stop, so it can lose its quorum: two instances have one voter, and killing
// it leaves the other without a leader for good. watchQuorum (one per node,
// with Discovery only) repairs that, and fences a node whose announcement
// lapsed.
//
// Quorum recovery. A node that has had no leader for FailureTimeout reads the
// discovery log. While any other voter of its Raft configuration is live
// (announced in the last 2×FailureTimeout), it waits: an election may be
// under way, or a network split it must not heal by itself. Once every other
// voter is stale, the live replica ranked first among the survivors makes
// itself the only voter of its own state (raft.RecoverCluster) and leads; the
// others drop their Raft state and join it.
//
// Why this does not make two owners of a task. A voter whose announcement is
// stale has not announced for 2×FailureTimeout; a node that cannot announce
// for FailureTimeout stops being "standing" (Discovery.Standing): as a leader
// it then acknowledges no heartbeat, so it extends nobody's lease, and once it
// notices it fences itself, announces again with a new rank and joins the
// group it finds (or recovers alone if it finds none). Every lease the old
// group granted lasts 2/3 FailureTimeout from a heartbeat its leader
// acknowledged while standing, so by the time the survivors recover, every
// lease of the old group has run out: the survivors themselves have had no
// leader for FailureTimeout and hold none, and a paused old leader that wakes
// up grants none. A survivor that joins drops its Raft state: the recovered
// leader may lack the last entries the old leader committed, and a replica
// must not act on an assignment the new group does not know. The remaining
// assumption is that clocks agree to well within a failure timeout (the
// staleness of an announcement is judged by the reader's clock).

// watchQuorum checks every quarter of a second whether the node must fence
// itself (its announcement lapsed) or recover a lost quorum.
func (n *Node) watchQuorum() {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var leaderless, lastRead time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		if n.leftOrClosed() {
			return
		}
		if !n.cfg.Discovery.Standing() {
			if err := n.reset(false, nil, "this replica's announcement lapsed (paused, or cut off from the brokers): another group may have replaced its own"); err != nil {
				// The brokers are out of reach: try again in a while.
				select {
				case <-n.ctx.Done():
				case <-time.After(time.Second):
				}
			}
			leaderless = time.Time{}
			continue
		}
		if leader, _ := n.raft().LeaderWithID(); leader != "" {
			leaderless = time.Time{}
			continue
		}
		now := time.Now()
		if leaderless.IsZero() {
			leaderless = now
		}
		if now.Sub(leaderless) < n.cfg.FailureTimeout || now.Sub(lastRead) < time.Second {
			continue
		}
		lastRead = now
		if n.recoverQuorum() {
			leaderless = time.Time{}
		}
	}
}

func (n *Node) leftOrClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.left || n.closed
}

// recoverQuorum recovers the group if every other voter is gone (see
// watchQuorum); it reports whether it did something.
func (n *Node) recoverQuorum() bool {
	cf := n.raft().GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	var others []string
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter && s.ID != raft.ServerID(n.addr) {
			others = append(others, string(s.ID))
		}
	}
	if len(others) == 0 {
		return false // not (yet) in a group: joining is the join loop's business
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FailureTimeout)
	defer cancel()
	v, err := n.cfg.Discovery.Read(ctx)
	if err != nil {
		n.log.Warn("coordinator: no leader, and the discovery log cannot be read", "err", err)
		return false
	}
	live := v.live(n.id)
	for _, o := range others {
		if live[o] {
			return false // a voter is alive: wait for an election
		}
	}
	if earlier := v.Earlier(n.id); len(earlier) > 0 {
		n.reset(false, earlier, fmt.Sprintf("the group lost its quorum (voters %v are gone): joining %v", others, earlier))
	} else {
		n.reset(true, others, fmt.Sprintf("the group lost its quorum (voters %v are gone): recovering it as its only voter", others))
	}
	return true
}

// reset replaces the node's Raft instance. It fences the node first (its
// lease and its view of the assignment go), then either makes the node the
// only voter of its own state (single: addrs are the old voters, known to be
// gone) or drops the state and joins again through addrs (or through what a
// new announcement finds).
func (n *Node) reset(single bool, addrs []string, reason string) error {
	n.resetMu.Lock()
	defer n.resetMu.Unlock()
	n.log.Warn("coordinator: resetting the raft state; stopping all tasks", "reason", reason, "single", single)
	n.mu.Lock()
	n.lease = lease{}
	n.leaseUntil.Store(nil)
	n.held = false
	n.stopAll = n.stopAll || n.engineBusyLocked()
	n.joined = false
	n.incarnation = 0
	n.minEpoch = 0
	n.localEpoch = 0
	clear(n.localMine)
	n.mu.Unlock()
	n.events.push(Fenced{Reason: reason})

	if err := n.raft().Shutdown().Error(); err != nil {
		n.log.Warn("coordinator: shut the old raft instance down", "err", err)
	}
	n.fsm.mu.Lock()
	n.fsm.reset()
	n.fsm.mu.Unlock()
	var peers, gone []string
	if single {
		gone = addrs
	} else {
		peers = addrs
	}
	if err := n.restartRaft(single, &peers); err != nil {
		n.log.Error("coordinator: restart raft; this replica stays out of the group until it succeeds", "err", err)
		n.mu.Lock()
		n.startErr = err
		n.mu.Unlock()
		return err
	}
	n.mu.Lock()
	n.peers = peers
	n.knownGone = gone
	n.startErr = nil
	n.mu.Unlock()
	if single {
		n.campaignIfSoleVoter()
	}
	select {
	case n.joinKick <- struct{}{}:
	default:
	}
	return nil
}

// restartRaft starts the new Raft instance for reset. Without single, it
// announces again (a new rank: a lapsed replica must not keep its place at
// the head of the order) and, if no live replica is ranked before it after
// all, recovers alone.
func (n *Node) restartRaft(single bool, peers *[]string) error {
	ctx, cancel := context.WithTimeout(n.ctx, 2*n.cfg.FailureTimeout)
	defer cancel()
	if !single {
		if !n.cfg.Discovery.Standing() {
			if err := n.cfg.Discovery.Announce(ctx, Announcement{Addr: n.addr, ID: n.id, StatusAddr: n.cfg.StatusAddr}); err != nil {
				return err
			}
		}
		v, err := n.cfg.Discovery.Read(ctx)
		if err != nil {
			return err
		}
		if earlier := v.Earlier(n.id); len(earlier) > 0 {
			*peers = earlier
		} else {
			single = true
		}
	}
	if !single {
		if err := n.wipeStore(); err != nil {
			return fmt.Errorf("drop the raft state: %w", err)
		}
	}
	if err := n.startRaft(single); err != nil {
		return err
	}
	if single {
		if exists, err := n.hasState(); err == nil && !exists {
			n.bootstrap([]string{n.addr})
		}
	}
	return nil
}

// errNotStanding refuses leader work while the announcement has lapsed.
var errNotStanding = errors.New("this leader's discovery announcement lapsed; it may have been replaced")
