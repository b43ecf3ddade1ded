package coordinator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Finding the peers, bootstrapping the group, joining it (again after being
// declared dead) and leaving it.

// startup finds the peers, bootstraps the group if this node is one of the
// first voters, then joins. With Discovery, Start has found the peers and
// decided whether this node bootstraps.
func (n *Node) startup() {
	if n.cfg.Discovery != nil {
		if n.bootstrapFirst {
			n.bootstrap([]string{n.addr})
		}
		n.campaignIfSoleVoter()
		n.joinLoop()
		return
	}
	peers, err := n.resolvePeers()
	if err != nil {
		if n.ctx.Err() == nil {
			n.log.Error("coordinator: cannot find the peers; this replica will not join", "err", err)
		}
		n.mu.Lock()
		n.startErr = err
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	n.peers = peers
	n.mu.Unlock()
	voters := peers[:min(n.cfg.Voters, len(peers))]
	if slices.Contains(voters, n.addr) {
		n.bootstrap(voters)
	}
	n.campaignIfSoleVoter()
	n.joinLoop()
}

// bootstrap makes voters the first configuration, unless Raft has state.
func (n *Node) bootstrap(voters []string) {
	conf := raft.Configuration{}
	for _, v := range voters {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(v), Address: raft.ServerAddress(v)})
	}
	err := n.raft().BootstrapCluster(conf).Error()
	switch {
	case err == nil:
		n.log.Info("coordinator: bootstrapped the raft group", "voters", voters)
	case errors.Is(err, raft.ErrCantBootstrap):
		n.log.Info("coordinator: raft state exists; not bootstrapping")
	default:
		n.log.Error("coordinator: bootstrap failed", "err", err)
	}
}

func (n *Node) resolvePeers() ([]string, error) {
	switch {
	case len(n.cfg.Peers) > 0:
		return n.cfg.Peers, nil
	case n.cfg.PeersDNS != "":
		port := n.cfg.DNSPort
		if port == 0 {
			_, p, _ := net.SplitHostPort(n.addr)
			port, _ = strconv.Atoi(p)
		}
		return waitPeers(n.ctx, n.cfg.resolver, n.cfg.PeersDNS, port, n.cfg.Voters, time.Second, 10*time.Minute, n.log)
	}
	return []string{n.addr}, nil
}

// joinLoop joins (and, after being declared dead, joins again) whenever the
// node is not a member.
func (n *Node) joinLoop() {
	for {
		n.mu.Lock()
		need := !n.joined && !n.left
		n.mu.Unlock()
		if need {
			n.join()
		}
		select {
		case <-n.ctx.Done():
			return
		case <-n.joinKick:
		}
	}
}

func (n *Node) join() {
	req := joinRequest{Addr: n.addr, ID: n.id, StatusAddr: n.cfg.StatusAddr, Previous: n.previous}
	start := time.Now()
	lastLog, lastRead := start, start
	for n.ctx.Err() == nil {
		if n.hooks.isStalled() {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var resp joinResponse
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		err := n.callLeader(ctx, pathJoin, req, &resp)
		cancel()
		if err == nil {
			n.mu.Lock()
			n.incarnation = resp.Incarnation
			n.minEpoch = resp.Epoch
			n.joined = true
			n.mu.Unlock()
			n.log.Info("coordinator: joined", "incarnation", resp.Incarnation, "epoch", resp.Epoch, "after", time.Since(start).Round(time.Millisecond))
			n.kickHeartbeat()
			return
		}
		if time.Since(lastLog) >= 5*time.Second {
			n.log.Info("coordinator: still joining", "err", err, "for", time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		if n.cfg.Discovery != nil && time.Since(lastRead) >= time.Second {
			n.rediscover()
			lastRead = time.Now()
		}
		select {
		case <-n.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Leave leaves the group for good (a graceful shutdown): the node drops its
// lease at once, hands leadership over if it leads, and asks the leader to
// mark it left (its tasks move at once) and to remove it from the Raft
// configuration. Stop every task before calling it; call Close afterwards.
func (n *Node) Leave(ctx context.Context) error {
	n.mu.Lock()
	n.left = true
	n.lease = lease{}
	n.leaseUntil.Store(nil)
	n.held = false
	joined := n.joined
	n.mu.Unlock()
	if !joined {
		return n.withdraw(ctx)
	}
	cf := n.raft().GetConfiguration()
	if err := cf.Error(); err != nil {
		return fmt.Errorf("leave: read raft configuration: %w", err)
	}
	others := 0
	for _, s := range cf.Configuration().Servers {
		if s.ID != raft.ServerID(n.addr) {
			others++
		}
	}
	if others == 0 {
		// A single replica has nobody to hand its tasks to, but records that
		// it left: its next start takes them back at once.
		if n.IsLeader() {
			if _, err := n.apply(command{Op: opLeave, Addr: n.addr}); err != nil {
				return fmt.Errorf("leave: %w", err)
			}
		}
		return n.withdraw(ctx)
	}
	if n.IsLeader() {
		if err := n.handOverLeadership(ctx); err != nil {
			return fmt.Errorf("leave: %w", err)
		}
	}
	if err := n.callLeader(ctx, pathLeave, leaveRequest{Addr: n.addr}, nil); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	n.log.Info("coordinator: left the group")
	return n.withdraw(ctx)
}
