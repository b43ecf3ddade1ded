package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultHeartbeatInterval = 500 * time.Millisecond
	DefaultFailureTimeout    = 3 * time.Second
	// DefaultCheckpointInterval is what a command line should offer; in Config
	// a zero CheckpointInterval means "never start checkpoints on a timer".
	DefaultCheckpointInterval = 10 * time.Second
	DefaultKeepCheckpoints    = 3
	minCheckpointTimeout      = 30 * time.Second
)

// Raft's own timing. hashicorp/raft's defaults (1 s heartbeat and election
// timeouts, 500 ms leader lease) make a leader failover take 2–3 s, which
// would use up the whole 3 s failure timeout; these halve that. The leader
// contacts followers every HeartbeatTimeout/10 = 50 ms, so a follower only
// starts an election after ~10 missed contacts.
const (
	raftHeartbeatTimeout   = 500 * time.Millisecond
	raftElectionTimeout    = 500 * time.Millisecond
	raftLeaderLeaseTimeout = 250 * time.Millisecond
	raftCommitTimeout      = 20 * time.Millisecond
)

// Config configures one replica's coordinator node.
type Config struct {
	// ID names the replica in logs and status (informational; default
	// AdvertiseAddr). The member's identity is its advertise address.
	ID string
	// RaftAddr is the TCP address to listen on for Raft and the control RPCs
	// (default "127.0.0.1:0": reachable only from this machine, fine for a
	// single replica).
	RaftAddr string
	// AdvertiseAddr is the address other replicas reach this one at (default
	// RaftAddr, with the port actually bound). It is the Raft server ID.
	AdvertiseAddr string
	// StatusAddr is this replica's public status address, shown by others.
	StatusAddr string
	// Peers are the raft addresses ("host:port") of the application's
	// replicas; the first Voters of them bootstrap the group as voters.
	Peers []string
	// PeersDNS is a DNS name to find the peers through instead: SRV records
	// _raft._tcp.<name> (a Kubernetes headless service), else its A/AAAA
	// records with DNSPort. The addresses are sorted.
	PeersDNS string
	// DNSPort is the port for peers found through A/AAAA records (default:
	// the port of AdvertiseAddr).
	DNSPort int
	// Voters is how many replicas vote: 1, 3 or 5 (default 1 without peers,
	// else 3, or 1 when fewer than 3 static peers are given). With Discovery
	// it is the most the group grows to.
	Voters int
	// DataDir holds raft.db (log and stable store) and the Raft snapshots.
	DataDir string
	// Tasks is the set of all tasks, the same on every replica.
	Tasks []TaskID
	// HeartbeatInterval is how often a replica tells the leader it is alive
	// (default 500ms).
	HeartbeatInterval time.Duration
	// FailureTimeout is how long the leader waits without hearing from a
	// replica before declaring it dead and moving its tasks (default 3s). A
	// replica stops running tasks 2/3 of it after its last acknowledged
	// heartbeat was sent, so it has stopped before its tasks move.
	FailureTimeout time.Duration
	// CheckpointInterval is how often the leader starts a checkpoint; 0 means
	// never on a timer (ForceCheckpoint still works). Command lines should
	// default to DefaultCheckpointInterval.
	CheckpointInterval time.Duration
	// CheckpointTimeout aborts a checkpoint not complete after this long
	// (default 5×CheckpointInterval, at least 30s).
	CheckpointTimeout time.Duration
	// KeepCheckpoints is how many complete checkpoints are retained; older
	// ones are marked expired (default 3).
	KeepCheckpoints int
	// HandoverTimeout bounds how long the leader waits for a live replica to
	// stop a task it is moving away from it; after that the replica is
	// declared dead (it fences itself) and the task moves once its lease has
	// run out (default 4×FailureTimeout).
	HandoverTimeout time.Duration
	// StandbyReplicas is how many standbys each stateful task has (Kafka
	// Streams' num.standby.replicas; default 0): members other than its owner
	// that keep its state warm by tailing its changelogs (standby.go).
	StandbyReplicas int
	// StatefulTasks are the tasks with changelogged stores, the ones that get
	// standbys (a subset of Tasks).
	StatefulTasks []TaskID
	// AcceptableRecoveryLag is how many changelog records a standby may be
	// behind and still count as caught up: a dead owner's task goes to a
	// caught-up standby first (default DefaultAcceptableRecoveryLag).
	AcceptableRecoveryLag int64
	// MaxWarmupReplicas caps the warm-ups at a time (Kafka Streams'
	// max.warmup.replicas; default DefaultMaxWarmupReplicas): standbys,
	// beyond StandbyReplicas, that a planned move of a stateful task keeps
	// on its new owner until they catch up (warmup.go).
	MaxWarmupReplicas int
	// Logger receives the node's logs; Raft's own logs go to it at warn
	// level and above (default slog.Default()).
	Logger *slog.Logger

	// UniqueID appends to ID a suffix made once for the data directory (and
	// kept in it), so that replicas started without distinct ids still
	// differ.
	UniqueID bool
	// PeerTLS, when set, runs Raft and the control RPCs over mutual TLS
	// (LoadPeerTLS): every replica of the group needs it, with certificates
	// signed by the same CA.
	PeerTLS *PeerTLS

	// Discovery finds the group when neither Peers nor PeersDNS is given
	// (see Discovery); nil without peers is a single replica. With it,
	// Voters is the most voters the group grows to (default 3), keeping
	// their number odd: 1 voter for 1 or 2 members, 3 for 3 or 4, 5 beyond.
	Discovery Discovery

	// resolver replaces net.DefaultResolver in tests.
	resolver resolver
	// hooks are set only by tests (see testHooks).
	hooks *testHooks
}

// withDefaults fills in the zero values and validates the result. The
// advertise address is settled later, once the listener is bound.
func (c Config) withDefaults() (Config, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RaftAddr == "" {
		c.RaftAddr = "127.0.0.1:0"
	}
	if _, _, err := net.SplitHostPort(c.RaftAddr); err != nil {
		return c, fmt.Errorf("coordinator: RaftAddr %q: %w", c.RaftAddr, err)
	}
	if c.AdvertiseAddr != "" {
		if err := checkHostPort(c.AdvertiseAddr); err != nil {
			return c, fmt.Errorf("coordinator: AdvertiseAddr: %w", err)
		}
	}
	if err := c.checkMembership(); err != nil {
		return c, err
	}
	if c.DNSPort < 0 || c.DNSPort > 65535 {
		return c, fmt.Errorf("coordinator: DNSPort %d out of range", c.DNSPort)
	}
	if c.DataDir == "" {
		return c, errors.New("coordinator: DataDir is required (raft.db and snapshots go there)")
	}
	tasks := map[TaskID]bool{}
	for _, t := range c.Tasks {
		if t.SubTopology < 0 || t.Partition < 0 {
			return c, fmt.Errorf("coordinator: task %s has a negative number", t)
		}
		if tasks[t] {
			return c, fmt.Errorf("coordinator: task %s listed twice", t)
		}
		tasks[t] = true
	}
	c.StatefulTasks = slices.Clone(c.StatefulTasks)
	slices.SortFunc(c.StatefulTasks, compareTasks)
	for _, t := range c.StatefulTasks {
		if !tasks[t] {
			return c, fmt.Errorf("coordinator: stateful task %s is not among the tasks", t)
		}
	}
	if c.StandbyReplicas < 0 || c.AcceptableRecoveryLag < 0 || c.MaxWarmupReplicas < 0 {
		return c, errors.New("coordinator: StandbyReplicas, AcceptableRecoveryLag and MaxWarmupReplicas must not be negative")
	}
	if c.MaxWarmupReplicas == 0 {
		c.MaxWarmupReplicas = DefaultMaxWarmupReplicas
	}
	if c.AcceptableRecoveryLag == 0 {
		c.AcceptableRecoveryLag = DefaultAcceptableRecoveryLag
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.FailureTimeout == 0 {
		c.FailureTimeout = DefaultFailureTimeout
	}
	if c.HeartbeatInterval < 0 || c.FailureTimeout < 0 || c.CheckpointInterval < 0 || c.CheckpointTimeout < 0 || c.HandoverTimeout < 0 {
		return c, errors.New("coordinator: durations must not be negative")
	}
	if c.FailureTimeout < 3*c.HeartbeatInterval {
		return c, fmt.Errorf("coordinator: FailureTimeout %s must be at least 3 heartbeat intervals (%s)", c.FailureTimeout, 3*c.HeartbeatInterval)
	}
	if c.CheckpointTimeout == 0 {
		c.CheckpointTimeout = max(5*c.CheckpointInterval, minCheckpointTimeout)
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = DefaultKeepCheckpoints
	}
	if c.KeepCheckpoints < 0 {
		return c, fmt.Errorf("coordinator: KeepCheckpoints %d must be positive", c.KeepCheckpoints)
	}
	if c.HandoverTimeout == 0 {
		c.HandoverTimeout = 4 * c.FailureTimeout
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	return c, nil
}

// checkMembership checks how the replica finds its group, and settles the
// number of voters.
func (c *Config) checkMembership() error {
	if c.Discovery != nil && (len(c.Peers) > 0 || c.PeersDNS != "") {
		return errors.New("coordinator: Discovery is for replicas without Peers or PeersDNS")
	}
	if len(c.Peers) > 0 && c.PeersDNS != "" {
		return errors.New("coordinator: give Peers or PeersDNS, not both")
	}
	seen := map[string]bool{}
	for _, p := range c.Peers {
		if err := checkHostPort(p); err != nil {
			return fmt.Errorf("coordinator: peer: %w", err)
		}
		if seen[p] {
			return fmt.Errorf("coordinator: peer %q listed twice", p)
		}
		seen[p] = true
	}
	if c.Voters == 0 {
		switch {
		case c.PeersDNS != "", c.Discovery != nil:
			c.Voters = 3
		case len(c.Peers) >= 3:
			c.Voters = 3
		default:
			c.Voters = 1
		}
	}
	if c.Voters != 1 && c.Voters != 3 && c.Voters != 5 {
		return fmt.Errorf("coordinator: Voters is %d; want 1, 3 or 5", c.Voters)
	}
	if len(c.Peers) > 0 && c.Voters > len(c.Peers) {
		return fmt.Errorf("coordinator: Voters is %d but only %d peers are listed", c.Voters, len(c.Peers))
	}
	if len(c.Peers) == 0 && c.PeersDNS == "" && c.Discovery == nil && c.Voters != 1 {
		return fmt.Errorf("coordinator: Voters is %d but no peers are given (a single replica has 1 voter)", c.Voters)
	}
	return nil
}

// checkHostPort checks that addr is "host:port" with a non-empty host and a
// numeric non-zero port.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("%q: no host", addr)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("%q: port %q is not a port number", addr, port)
	}
	return nil
}
