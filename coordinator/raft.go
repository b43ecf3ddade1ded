package coordinator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Raft set-up: the stores in the data directory, the transport, the Raft
// instance, and making a single replica the only voter of its old state.

// keyStartedAddr is the stable-store key of the address the node last
// started at.
const keyStartedAddr = "gofka.started_addr"

func (n *Node) raftConfig() *raft.Config {
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
	rc.Logger = n.hlog
	rc.NoLegacyTelemetry = true
	rc.NotifyCh = n.leaderCh // the node's own, so that it outlives a Raft instance
	return rc
}

// openStore opens raft.db (log and stable store) and the snapshot store, and
// notes the address this data directory last started at.
func (n *Node) openStore() error {
	path := filepath.Join(n.cfg.DataDir, "raft.db")
	store, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: 2 * time.Second}})
	if err != nil {
		return fmt.Errorf("coordinator: open %s: %w (is another replica using this data directory?)", path, err)
	}
	n.store = store
	// The address of the previous process on this directory: the member a
	// restart replaces (see joinRequest.Previous). That process is gone: it
	// released raft.db's lock.
	if prev, err := store.Get([]byte(keyStartedAddr)); err == nil && len(prev) > 0 && string(prev) != n.addr {
		n.previous = string(prev)
	}
	if err := store.Set([]byte(keyStartedAddr), []byte(n.addr)); err != nil {
		return fmt.Errorf("coordinator: write %s: %w", path, err)
	}
	if n.cfg.UniqueID {
		if err := n.uniqueID(store); err != nil {
			return fmt.Errorf("coordinator: %s: %w", path, err)
		}
	}
	n.snaps, err = raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, 2, n.hlog)
	if err != nil {
		return fmt.Errorf("coordinator: snapshot store in %s: %w", n.cfg.DataDir, err)
	}
	return nil
}

// wipeStore empties the Raft state (log, stable store, snapshots): a replica
// joining a group found through discovery starts afresh, since its old log
// can only be stale, and a stale configuration in which it votes could let
// it elect itself leader of a group of its own.
func (n *Node) wipeStore() error {
	if exists, err := n.hasState(); err != nil || !exists {
		return err
	}
	n.log.Info("coordinator: joining a running group: dropping the old raft state", "data_dir", n.cfg.DataDir)
	if err := n.store.Close(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(n.cfg.DataDir, "raft.db")); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(n.cfg.DataDir, "snapshots")); err != nil {
		return err
	}
	prev := n.previous // the id's suffix is kept too (uniqueID)
	err := n.openStore()
	n.previous = prev
	return err
}

// keySuffix is the stable-store key of the suffix UniqueID adds to the id.
const keySuffix = "gofka.id_suffix"

// uniqueID appends the data directory's suffix to the node's id, making the
// suffix on first use.
func (n *Node) uniqueID(store *raftboltdb.BoltStore) error {
	suffix := n.suffix
	if suffix == "" {
		if b, err := store.Get([]byte(keySuffix)); err == nil && len(b) > 0 {
			suffix = string(b)
		} else {
			var r [3]byte
			if _, err := rand.Read(r[:]); err != nil {
				return err
			}
			suffix = hex.EncodeToString(r[:])
		}
	}
	if err := store.Set([]byte(keySuffix), []byte(suffix)); err != nil {
		return err
	}
	if n.suffix == "" {
		n.id += "-" + suffix
	}
	n.suffix = suffix
	return nil
}

func (n *Node) hasState() (bool, error) {
	return raft.HasExistingState(n.store, n.store, n.snaps)
}

// startRaft starts a Raft instance on the stores. With single set, a
// replica finding its old state makes itself the only voter first (a single
// replica on a port chosen at start-up finds its old address in the stored
// configuration; a discovered group's survivor recovers a lost quorum).
func (n *Node) startRaft(single bool) error {
	if n.trans == nil {
		n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: raftLayer{n.mux.raft, n.cfg.PeerTLS}, MaxPool: 3, Timeout: 2 * time.Second, Logger: n.hlog})
	}
	logs, err := raft.NewLogCache(256, n.store)
	if err != nil {
		return fmt.Errorf("coordinator: log cache: %w", err)
	}
	rc := n.raftConfig()
	if single {
		if err := n.recoverSingle(rc, logs, n.snaps); err != nil {
			return err
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, n.store, n.snaps, keepOpen{n.trans, n.trans})
	if err != nil {
		return fmt.Errorf("coordinator: start raft: %w", err)
	}
	n.rp.Store(r)
	n.observeLeaders(r)
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
	if n.raft().State() != raft.Follower || !n.soleVoter() {
		return
	}
	rc := n.raft().ReloadableConfig()
	fast := rc
	fast.HeartbeatTimeout = raftLeaderLeaseTimeout
	if err := n.raft().ReloadConfig(fast); err != nil {
		n.log.Debug("coordinator: could not hurry the election", "err", err)
		return
	}
	if err := n.raft().ReloadConfig(rc); err != nil {
		n.log.Warn("coordinator: restore the raft heartbeat timeout", "err", err)
	}
}

// soleVoter says whether this node is the only server of its configuration.
func (n *Node) soleVoter() bool {
	cf := n.raft().GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	servers := cf.Configuration().Servers
	return len(servers) == 1 && servers[0].ID == raft.ServerID(n.addr) && servers[0].Suffrage == raft.Voter
}

// keepOpen hides the transport's Close from Raft, whose Shutdown closes a
// closeable transport: a node that replaces its Raft instance (recover.go)
// keeps its transport. Close closes it.
type keepOpen struct {
	raft.Transport
	pv raft.WithPreVote
}

func (k keepOpen) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return k.pv.RequestPreVote(id, target, args, resp)
}
