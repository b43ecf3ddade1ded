package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
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
	raft   *raft.Raft
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

	// stalled stops heartbeats and joins (tests: a SIGSTOPped or
	// partitioned replica).
	stalled atomic.Bool
	// leaseAtClose is the lease held when Close ran (tests compare it with
	// when the tasks moved).
	leaseAtClose lease

	leading atomic.Pointer[leaderState] // set while this node leads and is ready

	mu          sync.Mutex
	peers       []string
	startErr    error
	incarnation uint64 // from the leader's answer to our join; 0 while not joined
	joined      bool
	left        bool
	closed      bool
	lease       lease
	held        bool // the lease was valid when last looked at
	localEpoch  uint64
	localMine   map[TaskID]bool
	// minEpoch is the leader's epoch when it accepted our join. The local
	// state must have applied at least that much before it is trusted: a
	// restarted replica replays an old log in which it may still own tasks
	// that have since moved.
	minEpoch  uint64
	sentStart uint64           // the last checkpoint whose CheckpointStarted went out
	running   map[TaskID]bool  // as last reported by SetRunning
	touched   map[TaskID]bool  // approved by MayRun since then
	lags      map[string]int64 // as last reported by SetRunning
}

// lease is the right to run the assigned tasks: it lasts 2/3 of the failure
// timeout from the moment the last heartbeat the leader acknowledged was
// sent (a monotonic clock reading).
type lease struct {
	sent  time.Time
	until time.Time
	epoch uint64
}

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
	n := &Node{cfg: cfg, addr: addr, id: cfg.ID, hbKick: make(chan struct{}, 1), joinKick: make(chan struct{}, 1),
		localMine: map[TaskID]bool{}, running: map[TaskID]bool{}, touched: map[TaskID]bool{}}
	if n.id == "" {
		n.id = addr
	}
	n.log = cfg.Logger.With("replica", n.id)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.events = newEventQueue(n.log)
	n.client = newControlClient()
	n.mux = newMux(ln, addr, n.log)
	if err := n.openRaft(); err != nil {
		n.cancel()
		n.mux.close()
		if n.store != nil {
			n.store.Close()
		}
		return nil, err
	}
	n.srv = &http.Server{Handler: n.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)}
	n.wg.Add(5)
	go func() { defer n.wg.Done(); n.srv.Serve(n.mux.ctrl) }()
	go func() { defer n.wg.Done(); n.events.run(n.ctx) }()
	go func() { defer n.wg.Done(); n.watchLeadership() }()
	go func() { defer n.wg.Done(); n.heartbeatLoop() }()
	go func() { defer n.wg.Done(); n.startup() }()
	n.log.Info("coordinator: listening", "addr", addr, "bind", ln.Addr().String(), "data_dir", cfg.DataDir)
	return n, nil
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

// startup finds the peers, bootstraps the group if this node is one of the
// first voters, then joins.
func (n *Node) startup() {
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
		conf := raft.Configuration{}
		for _, v := range voters {
			conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(v), Address: raft.ServerAddress(v)})
		}
		err := n.raft.BootstrapCluster(conf).Error()
		switch {
		case err == nil:
			n.log.Info("coordinator: bootstrapped the raft group", "voters", voters)
		case errors.Is(err, raft.ErrCantBootstrap):
			n.log.Info("coordinator: raft state exists; not bootstrapping")
		default:
			n.log.Error("coordinator: bootstrap failed", "err", err)
		}
	}
	n.joinLoop()
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
	req := joinRequest{Addr: n.addr, ID: n.id, StatusAddr: n.cfg.StatusAddr}
	start := time.Now()
	lastLog := start
	for n.ctx.Err() == nil {
		if n.stalled.Load() {
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
		select {
		case <-n.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (n *Node) kickHeartbeat() {
	select {
	case n.hbKick <- struct{}{}:
	default:
	}
}

// heartbeatLoop tells the leader this node is alive, every HeartbeatInterval
// and at once when something the leader waits for changed; it also notices
// when the lease runs out.
func (n *Node) heartbeatLoop() {
	tick := time.NewTicker(n.cfg.HeartbeatInterval)
	defer tick.Stop()
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		case <-n.hbKick:
		case <-expiry.C:
		}
		n.checkLease()
		if !n.stalled.Load() {
			n.heartbeat()
		}
		n.mu.Lock()
		until := n.lease.until
		n.mu.Unlock()
		if d := time.Until(until); !until.IsZero() && d > 0 {
			expiry.Reset(d + time.Millisecond)
		}
	}
}

// checkLease sends Fenced once when the lease has run out.
func (n *Node) checkLease() {
	n.mu.Lock()
	lost := n.held && !n.leaseValidLocked(time.Now())
	if lost {
		n.held = false
	}
	sent := n.lease.sent
	n.mu.Unlock()
	if lost {
		n.log.Warn("coordinator: lease expired; stopping all tasks", "last_acknowledged_heartbeat", time.Since(sent).Round(time.Millisecond))
		n.events.push(Fenced{Reason: fmt.Sprintf("lease expired: no heartbeat acknowledged by the leader for %s", time.Since(sent).Round(time.Millisecond))})
	}
}

func (n *Node) leaseValidLocked(now time.Time) bool {
	return n.caughtUpLocked() && !n.left && !n.closed && now.Before(n.lease.until)
}

// caughtUpLocked says whether the node is a member whose local state is
// recent enough to act on (and to tell the engine about).
func (n *Node) caughtUpLocked() bool {
	return n.joined && n.localEpoch >= n.minEpoch
}

func (n *Node) heartbeat() {
	n.mu.Lock()
	if !n.joined || n.left || n.closed {
		n.mu.Unlock()
		return
	}
	// Applied epoch and running tasks are read together, under the lock that
	// MayRun and the FSM's updates take: once the applied epoch shows a task
	// taken away, MayRun refuses it, so "not running at epoch E" stays true.
	req := heartbeatRequest{Addr: n.addr, ID: n.id, Incarnation: n.incarnation, AppliedEpoch: n.localEpoch, Lags: maps.Clone(n.lags)}
	for t := range n.running {
		req.Running = append(req.Running, t)
	}
	for t := range n.touched {
		if !n.running[t] {
			req.Running = append(req.Running, t)
		}
	}
	n.mu.Unlock()
	slices.SortFunc(req.Running, compareTasks)

	leader, _ := n.raft.LeaderWithID()
	if leader == "" {
		return
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FailureTimeout/3)
	defer cancel()
	var resp heartbeatResponse
	if err := n.call(ctx, string(leader), pathHeartbeat, req, &resp); err != nil {
		if n.ctx.Err() == nil {
			n.log.Debug("coordinator: heartbeat failed", "leader", leader, "err", err)
		}
		return
	}
	switch resp.Status {
	case hbOK:
		n.mu.Lock()
		if req.Incarnation != n.incarnation || !n.joined || n.left || n.closed {
			n.mu.Unlock()
			return
		}
		if sent.After(n.lease.sent) {
			n.lease = lease{sent: sent, until: sent.Add(n.cfg.FailureTimeout * 2 / 3), epoch: resp.Epoch}
			until := n.lease.until
			n.leaseUntil.Store(&until)
		}
		regained := !n.held && n.leaseValidLocked(time.Now())
		if regained {
			// Tell the engine what to run (again): it may have stopped
			// everything on Fenced, or never heard while catching up.
			n.held = true
			n.events.push(AssignmentChanged{Epoch: n.localEpoch, Mine: n.mineLocked()})
			if cp := n.fsm.view().inflight; cp != nil && cp.ID > n.sentStart {
				n.sentStart = cp.ID
				n.events.push(CheckpointStarted{ID: cp.ID, Epoch: cp.Epoch})
			}
		}
		tasks := len(n.localMine)
		n.mu.Unlock()
		if regained {
			n.log.Info("coordinator: lease held", "epoch", resp.Epoch, "tasks", tasks)
		}
	case hbDead, hbUnknown, hbStale:
		n.fence(req.Incarnation, "the leader answered the heartbeat with "+resp.Status)
	case hbLeft:
		// Leaving: nothing to do.
	default:
		n.log.Warn("coordinator: unexpected heartbeat answer", "status", resp.Status)
	}
}

// fence drops the lease of incarnation inc (if still current) and joins
// again.
func (n *Node) fence(inc uint64, reason string) {
	n.mu.Lock()
	if inc != n.incarnation || !n.joined {
		n.mu.Unlock()
		return
	}
	n.lease = lease{}
	n.leaseUntil.Store(nil)
	n.held = false
	n.joined = false
	left := n.left
	n.mu.Unlock()
	if left {
		return
	}
	n.log.Warn("coordinator: fenced; stopping all tasks and joining again", "reason", reason)
	n.events.push(Fenced{Reason: reason})
	select {
	case n.joinKick <- struct{}{}:
	default:
	}
}

func (n *Node) mineLocked() []TaskID {
	out := make([]TaskID, 0, len(n.localMine))
	for t := range n.localMine {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTasks)
	return out
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
		if n.caughtUpLocked() {
			n.events.push(AssignmentChanged{Epoch: epoch, Mine: mine})
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

// ---- public API ----

// Events delivers assignment changes, checkpoint starts and ends, and
// fencing, in log order. Undelivered assignment changes are coalesced (only
// the latest counts). The channel is never closed.
func (n *Node) Events() <-chan Event { return n.events.out }

// MayRun says whether this replica may process (or commit) task now: its
// lease is valid and the applied assignment gives it the task. Call it before
// each batch and each commit. A task it approves counts as running (in the
// heartbeats) until the next SetRunning, so the leader moves the task only
// after the engine says it stopped.
func (n *Node) MayRun(task TaskID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.localMine[task] || !n.leaseValidLocked(time.Now()) {
		return false
	}
	if !n.touched[task] {
		n.touched[task] = true
	}
	return true
}

// LeaseHeld reports, without locking, whether this replica's lease has not run
// out: the engine checks it before every record it writes, so that a replica
// that was stopped (SIGSTOP, a long pause) past its lease writes nothing once it
// runs again, not even the rest of a flush it was in the middle of.
func (n *Node) LeaseHeld() bool {
	until := n.leaseUntil.Load()
	return until != nil && time.Now().Before(*until)
}

// Lease reports whether this replica holds a valid lease, and the leader's
// assignment epoch when it was last renewed.
func (n *Node) Lease() (valid bool, epoch uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaseValidLocked(time.Now()), n.lease.epoch
}

// SetRunning tells the coordinator which tasks the engine is running now and
// their lag (keyed by TaskID.String()); heartbeats carry both to the leader.
// Call it from the goroutine that processes batches, between batches: a task
// left out is taken as stopped, and the leader may then give it to another
// replica.
func (n *Node) SetRunning(tasks []TaskID, lags map[string]int64) {
	n.mu.Lock()
	next := make(map[TaskID]bool, len(tasks))
	for _, t := range tasks {
		next[t] = true
	}
	stopped := false
	for t := range n.running {
		if !next[t] {
			stopped = true
		}
	}
	for t := range n.touched {
		if !next[t] {
			stopped = true
		}
	}
	n.running = next
	clear(n.touched)
	n.lags = maps.Clone(lags)
	n.mu.Unlock()
	if stopped {
		n.kickHeartbeat() // the leader may be waiting for it to hand a task over
	}
}

// Mine returns the tasks the applied assignment gives this replica.
func (n *Node) Mine() []TaskID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mineLocked()
}

// IsLeader says whether this replica is the Raft leader (the Streams
// Coordinator).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

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
	if leader, _ := n.raft.LeaderWithID(); leader == "" {
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

// Checkpoints returns the checkpoint log, oldest first.
func (n *Node) Checkpoints() []Checkpoint { return n.fsm.checkpoints() }

// TaskCheckpoint is one retained checkpoint's ack for one task.
type TaskCheckpoint struct {
	ID       uint64    `json:"id"`
	Finished time.Time `json:"finished"`
	CheckpointAck
}

// LatestComplete returns task's acks in the retained complete checkpoints,
// newest first.
func (n *Node) LatestComplete(task TaskID) []TaskCheckpoint {
	cps := n.fsm.checkpoints()
	key := task.String()
	var out []TaskCheckpoint
	for i := len(cps) - 1; i >= 0; i-- {
		cp := cps[i]
		if !cp.Retained() {
			continue
		}
		if ack, ok := cp.Acks[key]; ok {
			out = append(out, TaskCheckpoint{ID: cp.ID, Finished: cp.Finished, CheckpointAck: ack})
		}
	}
	return out
}

// ErrCheckpointRejected wraps the leader's refusal of an ack (the checkpoint
// was aborted or already finished, or the task is not this replica's).
var ErrCheckpointRejected = errors.New("checkpoint ack rejected")

// AckCheckpoint reports that task's part of checkpoint id is durable. It
// retries until the leader has applied it, refused it, or ctx ends.
func (n *Node) AckCheckpoint(ctx context.Context, id uint64, task TaskID, ack CheckpointAck) error {
	req := ackRequest{Addr: n.addr, Checkpoint: id, Task: task, Ack: ack}
	var resp ackResponse
	err := n.callLeader(ctx, pathAck, req, &resp)
	if err != nil && !retryable(err) {
		return fmt.Errorf("%w: checkpoint %d task %s: %v", ErrCheckpointRejected, id, task, err)
	}
	if err != nil {
		return fmt.Errorf("ack checkpoint %d task %s: %w", id, task, err)
	}
	return nil
}

// ForceCheckpoint starts a checkpoint now (through the leader) and returns
// its id. It fails if one is in flight.
func (n *Node) ForceCheckpoint(ctx context.Context) (uint64, error) {
	var resp startResponse
	if err := n.callLeader(ctx, pathStart, struct{}{}, &resp); err != nil {
		return 0, fmt.Errorf("start checkpoint: %w", err)
	}
	return resp.Checkpoint, nil
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
		return nil
	}
	cf := n.raft.GetConfiguration()
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
		return nil // a single replica has nobody to hand over to
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
	return nil
}

// Close stops the node without leaving: to the others it looks like a
// crash, and its tasks move after the failure timeout.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.leaseAtClose = n.lease
		n.lease = lease{}
		n.leaseUntil.Store(nil)
		n.leaseUntil.Store(nil)
		n.held = false
		n.mu.Unlock()
		n.cancel()
		if e := n.raft.Shutdown().Error(); e != nil {
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
