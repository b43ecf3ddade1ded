package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Node is one replica's member of the coordinator group.
type Node struct {
	// leaseUntil mirrors lease.until for LeaseHeld, which the engine calls on
	// every write and so must not take mu.
	leaseUntil atomic.Pointer[time.Time]

	cfg    Config
	log    *slog.Logger
	addr   string // advertise address: the Raft server ID and member identity
	id     string
	fsm    *fsm
	rp     atomic.Pointer[raft.Raft] // see raft(); replaced when the node recovers a lost quorum
	trans  *raft.NetworkTransport
	store  *raftboltdb.BoltStore
	mux    *mux
	srv    *http.Server
	client *http.Client
	events *eventQueue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	hbKick   chan struct{}
	joinKick chan struct{}

	hlog     hclog.Logger
	snaps    raft.SnapshotStore
	leaderCh chan bool // Raft's NotifyCh: leadership changes
	// bootstrapFirst: Discovery found no live replica ranked before this
	// one, so it bootstraps the group.
	bootstrapFirst bool
	hooks          *testHooks // nil except in tests (Config.hooks)
	resetMu        sync.Mutex // held while the Raft instance is replaced
	previous       string     // the address this data directory last started at, if not addr
	suffix         string     // added to the id (Config.UniqueID)

	leading atomic.Pointer[leaderState] // set while this node leads and is ready

	leaderChanges atomic.Uint64 // leaders learned of (observeLeaders), for RaftStats
	stopObserver  chan struct{} // ends the observer of the current Raft instance

	mu          sync.Mutex
	peers       []string
	knownGone   []string // members a quorum recovery found gone, for the next leader loop
	startErr    error
	incarnation uint64 // from the leader's answer to our join; 0 while not joined
	joined      bool
	left        bool
	closed      bool
	lease       lease
	held        bool // the lease was valid when last looked at
	// stopAll is set when the lease lapsed or the node was fenced, and
	// cleared once the engine reports no task running (SetRunning): until
	// then no lease counts, so that work begun under an old lease never goes
	// on under a new one.
	stopAll    bool
	localEpoch uint64
	localMine  map[TaskID]bool
	// minEpoch is the leader's epoch when it accepted our join. The local
	// state must have applied at least that much before it is trusted: a
	// restarted replica replays an old log in which it may still own tasks
	// that have since moved.
	minEpoch  uint64
	sentStart uint64           // the last checkpoint whose CheckpointStarted went out
	running   map[TaskID]bool  // as last reported by SetRunning
	touched   map[TaskID]bool  // approved by MayRun since then
	lags      map[string]int64 // as last reported by SetRunning
	// localStandby is what this replica keeps a standby of (applied), and
	// standbyLags their lags as last reported by SetStandbyLags.
	localStandby []TaskID
	standbyLags  map[string]int64
	statefulSet  map[TaskID]bool // Config.StatefulTasks
}

// raft is the node's Raft instance. It is replaced (and the old one shut
// down) only when the node recovers a group that lost its quorum.
func (n *Node) raft() *raft.Raft { return n.rp.Load() }

// Start opens the Raft state under cfg.DataDir, listens on cfg.RaftAddr and
// returns; peer discovery, bootstrap and joining go on in the background (see
// WaitReady). ctx is not kept: Close stops the node.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("coordinator: create data directory: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("coordinator: listen on %s: %w", cfg.RaftAddr, err)
	}
	addr, err := advertise(cfg, ln.Addr())
	if err != nil {
		ln.Close()
		return nil, err
	}
	n := &Node{cfg: cfg, addr: addr, id: cfg.ID, hooks: cfg.hooks, hbKick: make(chan struct{}, 1), joinKick: make(chan struct{}, 1),
		localMine: map[TaskID]bool{}, running: map[TaskID]bool{}, touched: map[TaskID]bool{}}
	if n.id == "" {
		n.id = addr
	}
	n.log = cfg.Logger.With("replica", n.id)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.events = newEventQueue(n.log)
	n.client = newControlClient(cfg.PeerTLS)
	n.mux = newMux(ln, addr, cfg.PeerTLS, n.log)
	n.hlog = newHclog(n.log, "raft")
	n.leaderCh = make(chan bool, 16)
	n.fsm = newFSM(n.cfg.Tasks, n.cfg.KeepCheckpoints)
	n.statefulSet = map[TaskID]bool{}
	for _, t := range n.cfg.StatefulTasks {
		n.statefulSet[t] = true
	}
	n.fsm.notify = n.applied
	if err := n.open(ctx); err != nil {
		n.cancel()
		n.mux.close()
		if n.store != nil {
			n.store.Close()
		}
		if n.cfg.Discovery != nil {
			n.cfg.Discovery.Close()
		}
		return nil, err
	}
	if n.suffix != "" {
		n.log = cfg.Logger.With("replica", n.id)
	}
	n.srv = &http.Server{Handler: n.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)}
	n.wg.Add(5)
	go func() { defer n.wg.Done(); n.srv.Serve(n.mux.ctrl) }()
	go func() { defer n.wg.Done(); n.events.run(n.ctx) }()
	go func() { defer n.wg.Done(); n.watchLeadership() }()
	go func() { defer n.wg.Done(); n.heartbeatLoop() }()
	go func() { defer n.wg.Done(); n.startup() }()
	if cfg.Discovery != nil {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.watchQuorum() }()
	}
	n.log.Info("coordinator: listening", "addr", addr, "bind", ln.Addr().String(), "data_dir", cfg.DataDir)
	return n, nil
}

// open opens the stores and starts Raft. Without peers, a replica that
// finds no live replica before it (through Discovery, or alone without one)
// is a single voter, and bootstraps; with Discovery it joins the earlier
// ones otherwise.
func (n *Node) open(ctx context.Context) error {
	if err := n.openStore(); err != nil {
		return err
	}
	single := len(n.cfg.Peers) == 0 && n.cfg.PeersDNS == ""
	if single && n.cfg.Discovery != nil {
		first, err := n.discover(ctx)
		if err != nil {
			return err
		}
		n.bootstrapFirst = first
		single = first
		if !first {
			if err := n.wipeStore(); err != nil {
				return fmt.Errorf("coordinator: drop the old raft state: %w", err)
			}
		}
	}
	return n.startRaft(single)
}

// advertise settles the address others reach this node at.
func advertise(cfg Config, bound net.Addr) (string, error) {
	if cfg.AdvertiseAddr != "" {
		return cfg.AdvertiseAddr, nil
	}
	host, _, _ := net.SplitHostPort(cfg.RaftAddr)
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		return "", fmt.Errorf("coordinator: RaftAddr %q listens on every interface; give AdvertiseAddr, the address peers reach this replica at", cfg.RaftAddr)
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", fmt.Errorf("coordinator: bound address %s: %w", bound, err)
	}
	return net.JoinHostPort(host, port), nil
}

// Close stops the node without leaving: to the others it looks like a
// crash, and its tasks move after the failure timeout.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		n.mu.Lock()
		n.closed = true
		if n.hooks != nil {
			n.hooks.leaseAtClose = n.lease
		}
		n.lease = lease{}
		n.leaseUntil.Store(nil)
		n.held = false
		n.mu.Unlock()
		n.cancel()
		if n.cfg.Discovery != nil {
			n.cfg.Discovery.Close()
		}
		if e := n.raft().Shutdown().Error(); e != nil {
			err = errors.Join(err, fmt.Errorf("raft shutdown: %w", e))
		}
		n.trans.Close()
		n.srv.Close()
		n.mux.close()
		n.wg.Wait()
		if e := n.store.Close(); e != nil {
			err = errors.Join(err, fmt.Errorf("close raft.db: %w", e))
		}
	})
	return err
}

// Events delivers assignment changes, checkpoint starts and ends, and
// fencing, in log order. Undelivered assignment changes are coalesced (only
// the latest counts). The channel is never closed.
func (n *Node) Events() <-chan Event { return n.events.out }

// IsLeader says whether this replica is the Raft leader (the Streams
// Coordinator).
func (n *Node) IsLeader() bool { return n.raft().State() == raft.Leader }

// Addr returns the advertise address, the member's identity.
func (n *Node) Addr() string { return n.addr }

// NotReady says why the replica is not yet a ready member ("" when it is: it
// has joined, the replicated state lists it alive, and a leader is known).
func (n *Node) NotReady() string {
	n.mu.Lock()
	startErr, joined, left, closed := n.startErr, n.joined, n.left, n.closed
	n.mu.Unlock()
	switch {
	case closed:
		return "coordinator closed"
	case left:
		return "left the coordinator group"
	case startErr != nil:
		return "coordinator: " + startErr.Error()
	case !joined:
		return "joining the coordinator group"
	}
	if leader, _ := n.raft().LeaderWithID(); leader == "" {
		return "no coordinator leader known"
	}
	if m, ok := n.fsm.member(n.addr); !ok || m.State != MemberAlive {
		return "not yet an alive member in the replicated state"
	}
	return ""
}

// WaitReady waits until NotReady says "" or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		why := n.NotReady()
		if why == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("coordinator not ready (%s): %w", why, ctx.Err())
		case <-t.C:
		}
	}
}
