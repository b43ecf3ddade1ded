package coordinator

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// keyJoinedAddr is the stable-store key of the address the node last joined
// at.
const keyJoinedAddr = "gofka.joined_addr"

func (n *Node) openRaft() error {
	hlog := newHclog(n.log, "raft")
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.addr)
	rc.HeartbeatTimeout = raftHeartbeatTimeout
	rc.ElectionTimeout = raftElectionTimeout
	rc.LeaderLeaseTimeout = raftLeaderLeaseTimeout
	rc.CommitTimeout = raftCommitTimeout
	rc.SnapshotThreshold = 1024
	rc.TrailingLogs = 1024
	rc.SnapshotInterval = 30 * time.Second
	rc.ShutdownOnRemove = false // a removed replica joins again through the control RPC
	rc.Logger = hlog
	rc.NoLegacyTelemetry = true

	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(n.cfg.DataDir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second}})
	if err != nil {
		return fmt.Errorf("coordinator: open %s: %w (is another replica using this data directory?)", filepath.Join(n.cfg.DataDir, "raft.db"), err)
	}
	n.store = store
	// The address this data directory last joined the group at: the member a
	// restart replaces (see joinRequest.Previous).
	if prev, err := store.Get([]byte(keyJoinedAddr)); err == nil && string(prev) != n.addr {
		n.previous = string(prev)
	}
	logs, err := raft.NewLogCache(256, store)
	if err != nil {
		return fmt.Errorf("coordinator: log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, 2, hlog)
	if err != nil {
		return fmt.Errorf("coordinator: snapshot store in %s: %w", n.cfg.DataDir, err)
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: raftLayer{n.mux.raft}, MaxPool: 3, Timeout: 2 * time.Second, Logger: hlog})

	// A single replica listening on a port chosen at start-up finds its old
	// address in its Raft configuration: make it the only voter again.
	if len(n.cfg.Peers) == 0 && n.cfg.PeersDNS == "" {
		if err := n.recoverSingle(rc, logs, snaps); err != nil {
			return err
		}
	}

	n.fsm = newFSM(n.cfg.Tasks, n.cfg.KeepCheckpoints)
	n.fsm.notify = n.applied
	r, err := raft.NewRaft(rc, n.fsm, logs, store, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("coordinator: start raft: %w", err)
	}
	n.raft = r
	return nil
}

func (n *Node) recoverSingle(rc *raft.Config, logs raft.LogStore, snaps raft.SnapshotStore) error {
	exists, err := raft.HasExistingState(logs, n.store, snaps)
	if err != nil || !exists {
		return err
	}
	scratch := newFSM(n.cfg.Tasks, n.cfg.KeepCheckpoints)
	rcCopy := *rc
	conf, err := raft.GetConfiguration(&rcCopy, scratch, logs, n.store, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("coordinator: read the existing raft configuration: %w", err)
	}
	if len(conf.Servers) == 1 && conf.Servers[0].ID == raft.ServerID(n.addr) && conf.Servers[0].Suffrage == raft.Voter {
		return nil
	}
	n.log.Warn("coordinator: single replica: replacing the stored raft configuration with this address", "addr", n.addr, "was", conf.Servers)
	rcCopy = *rc
	err = raft.RecoverCluster(&rcCopy, newFSM(n.cfg.Tasks, n.cfg.KeepCheckpoints), logs, n.store, snaps, n.trans,
		raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.addr), Address: raft.ServerAddress(n.addr)}}})
	if err != nil {
		return fmt.Errorf("coordinator: recover the single-replica raft configuration: %w", err)
	}
	return nil
}

// campaignIfSoleVoter starts an election now, instead of after Raft's
// randomized heartbeat timeout (0.5–1 s), when this node is the only voter of
// its configuration: a single replica (re)starting, or the first replica of a
// group found through discovery. Nobody else votes, so nobody is disturbed.
// Raft has no call for that; lowering the heartbeat timeout makes a follower
// re-check its timer at once, and it has never heard from a leader.
func (n *Node) campaignIfSoleVoter() {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil || n.raft.State() != raft.Follower {
		return
	}
	servers := cf.Configuration().Servers
	if len(servers) != 1 || servers[0].ID != raft.ServerID(n.addr) || servers[0].Suffrage != raft.Voter {
		return
	}
	rc := n.raft.ReloadableConfig()
	fast := rc
	fast.HeartbeatTimeout = raftLeaderLeaseTimeout
	if err := n.raft.ReloadConfig(fast); err != nil {
		n.log.Debug("coordinator: could not hurry the election", "err", err)
		return
	}
	if err := n.raft.ReloadConfig(rc); err != nil {
		n.log.Warn("coordinator: restore the raft heartbeat timeout", "err", err)
	}
}
