package coordinator

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Discovery is how a replica finds its group when neither Config.Peers nor
// Config.PeersDNS is given: each replica announces itself in a shared,
// totally ordered log (runtime/discovery keeps it in a compacted Kafka
// topic), so starting another instance is all it takes to scale out.
//
// The order is what makes bootstrapping safe. A replica's rank is the
// position of its first announcement in the log: when several start at
// once, exactly one of them sees no live replica ranked before it, and only
// that one bootstraps a group; the others join it (see join.go).
type Discovery interface {
	// Announce publishes self and keeps publishing it now and then until
	// Withdraw or Close; it returns once the first announcement is durable.
	// Announcing again starts over with a new rank.
	Announce(ctx context.Context, self Announcement) error
	// Read reads the log to its end and returns the live replicas.
	Read(ctx context.Context) (DiscoveryView, error)
	// Standing says whether this replica's announcement has been kept up:
	// none of its announcements since the first came more than
	// FailureTimeout after the one before, nor is the last one older.
	// Others deem a replica gone 2×FailureTimeout after its last
	// announcement; a replica that is not standing may have been, and must
	// not act for its group (see recover.go). Announce again to stand again,
	// with a new rank.
	Standing() bool
	// Withdraw removes this replica's announcement (a clean leave).
	Withdraw(ctx context.Context) error
	// Close stops publishing, without withdrawing.
	Close()
}

// Announcement is what a replica publishes about itself.
type Announcement struct {
	Addr       string `json:"addr"` // the Raft advertise address
	ID         string `json:"id"`
	StatusAddr string `json:"status_addr,omitempty"`
}

// DiscoveredReplica is a live replica another one announced.
type DiscoveredReplica struct {
	Announcement
	// Rank orders replicas by their first announcement: lower started
	// earlier.
	Rank int64
	// Age is how long ago it last announced itself.
	Age time.Duration
}

// DiscoveryView is what Read found.
type DiscoveryView struct {
	// Rank is this replica's (-1 before Announce).
	Rank int64
	// Others are the live replicas other than this process, by rank. A
	// replica is live while its last announcement is recent (a few failure
	// timeouts) and not withdrawn. An earlier process with this replica's id
	// is listed too, if still live.
	Others []DiscoveredReplica
}

// Earlier returns the addresses of the live replicas ranked before this one,
// oldest first, leaving out those with id.
func (v DiscoveryView) Earlier(id string) []string {
	var out []string
	for _, r := range v.Others {
		if r.Rank < v.Rank && r.ID != id {
			out = append(out, r.Addr)
		}
	}
	return out
}

// live returns the addresses of every live replica but those with id.
func (v DiscoveryView) live(id string) map[string]bool {
	out := map[string]bool{}
	for _, r := range v.Others {
		if r.ID != id {
			out[r.Addr] = true
		}
	}
	return out
}

// discover announces this replica and reads who else is live: it bootstraps
// the group if no live replica is ranked before it, and joins the earlier
// ones otherwise. It refuses to start when a live replica uses this
// replica's id, other than the previous process on this data directory.
//
// Joining drops this replica's Raft state (see wipeStore), so it joins only
// replicas it can reach: when every earlier one is unreachable (they all
// crashed, and their announcements are not stale yet) it waits, and then
// bootstraps on its own state, keeping the group's checkpoint log.
func (n *Node) discover(ctx context.Context) (bootstrap bool, err error) {
	d := n.cfg.Discovery
	if err := d.Announce(ctx, Announcement{Addr: n.addr, ID: n.id, StatusAddr: n.cfg.StatusAddr}); err != nil {
		return false, err
	}
	waiting := false
	for {
		v, err := d.Read(ctx)
		if err != nil {
			return false, err
		}
		for _, r := range v.Others {
			if r.ID == n.id && r.Addr != n.previous {
				return false, fmt.Errorf("coordinator: replica id %q is in use by the running replica at %s (status %s, announced %s ago): give each instance its own replica id",
					n.id, r.Addr, r.StatusAddr, r.Age.Round(time.Millisecond))
			}
		}
		earlier := v.Earlier(n.id)
		if len(earlier) == 0 {
			n.log.Info("coordinator: discovery found no live replica before this one: bootstrapping the group", "rank", v.Rank)
			return true, nil
		}
		if reachable(ctx, earlier) {
			n.peers = earlier
			n.log.Info("coordinator: discovery found running replicas: joining", "rank", v.Rank, "earlier", earlier)
			return false, nil
		}
		if !waiting {
			n.log.Info("coordinator: the replicas announced before this one do not answer; waiting until they do or their announcements go stale", "earlier", earlier)
			waiting = true
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// reachable says whether any of addrs accepts a TCP connection.
func reachable(ctx context.Context, addrs []string) bool {
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		var d net.Dialer
		c, err := d.DialContext(dctx, "tcp", a)
		cancel()
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// rediscover reads the discovery log again while a join is retried: the
// replicas to join through change, and when none ranked before this one is
// live any more (they crashed, or stopped before forming a group) and this
// node has no Raft state, it bootstraps the group itself.
func (n *Node) rediscover() {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FailureTimeout)
	defer cancel()
	v, err := n.cfg.Discovery.Read(ctx)
	if err != nil {
		n.log.Warn("coordinator: read the discovery log", "err", err)
		return
	}
	earlier := v.Earlier(n.id)
	if len(earlier) > 0 {
		n.mu.Lock()
		n.peers = earlier
		n.mu.Unlock()
		return
	}
	// Only a node that never was in a group bootstraps here: ranked first
	// does not mean leading, and a member that rejoins a group must not
	// form one of its own (a group that lost its quorum is watchQuorum's
	// business).
	if exists, err := n.hasState(); err != nil || exists {
		return
	}
	n.log.Info("coordinator: no live replica before this one any more: bootstrapping the group", "rank", v.Rank)
	n.bootstrap([]string{n.addr})
	n.campaignIfSoleVoter()
}

// withdraw removes this replica's announcement after a clean leave.
func (n *Node) withdraw(ctx context.Context) error {
	if n.cfg.Discovery == nil {
		return nil
	}
	if err := n.cfg.Discovery.Withdraw(ctx); err != nil {
		return fmt.Errorf("leave: withdraw the announcement: %w", err)
	}
	return nil
}
