// Package coordinator is the Raft coordinator group of a multi-replica
// deployment. Every replica runs a Node; the nodes form a hashicorp/raft group
// (raft-boltdb log and stable store, file snapshots, TCP transport) whose
// leader is the Streams Coordinator.
//
// How a replica finds its group: Config.Peers (a fixed list; the first
// Voters bootstrap), Config.PeersDNS (the same, from DNS), or Config.Discovery
// (replicas announce themselves in a shared ordered log; runtime/discovery
// keeps it in a Kafka topic). With Discovery a replica that finds no live
// replica ranked before it bootstraps a single-voter group, the others join;
// members come and go, the leader keeps an odd number of voters, and a group
// that lost its quorum is recovered by a survivor (recover.go).
//
//	start ─▶ Discovery.Announce ─▶ Read ─▶ none earlier? ─yes─▶ bootstrap, lead
//	                                              └──no──▶ join an earlier one (fresh Raft state)
//	no leader for FailureTimeout, every other voter's announcement stale
//	      ─▶ first-ranked survivor: RecoverCluster as the only voter; the others join it
//
// How data flows:
//
//	leader: heartbeats ──▶ failure detection ─┐
//	        join/leave RPCs ──────────────────┼─▶ commands ─▶ Raft log ─▶ FSM.Apply on every replica
//	        timers, acks ─▶ assignment plan,  │                              │
//	                        checkpoints ──────┘                              ▼
//	every replica:                                     Events(): AssignmentChanged, CheckpointStarted,
//	  heartbeat ─▶ leader ─▶ "ok" ─▶ lease               CheckpointFinished, Fenced ─▶ engine
//	  engine ─▶ MayRun(task) (lease valid and task assigned here), SetRunning, AckCheckpoint
//
// The replicated state (an unexported FSM) holds the members (alive, dead or
// left, with the epoch they joined at), the task assignment with a
// monotonically increasing epoch and a bounded history of its changes, and
// the checkpoint log (started, complete or aborted, with who aborted it and
// why: the leader on a timeout or an assignment change, or a replica whose
// task's part failed; per-task acks with the manifest reference; which
// complete checkpoints are retained). Heartbeat
// times and what members report running live only in the leader's memory.
//
// Where things are:
//
//	node.go         Node, Start, Close, readiness
//	raft.go         Raft set-up: stores, transport, single-replica recovery
//	join.go         finding the peers, bootstrap, join (and rejoin), Leave
//	discovery.go    the Discovery interface and its use at start and while joining
//	recover.go      quorum recovery and fencing for discovered groups
//	lease.go        heartbeats, the lease, fencing; MayRun, SetRunning
//	local.go        committed changes → this replica's tasks and events
//	checkpoints.go  the checkpoint API (acks, forced checkpoints, the log)
//	leader.go       the leader loop: failure detection, assignment, checkpoints
//	voters.go       who votes: adding, promoting, removing Raft servers
//	handlers.go     the control RPCs the leader serves
//	rpc.go, mux.go  the control protocol and the shared port
//	peertls.go      mutual TLS between replicas (Config.PeerTLS)
//	state.go, fsm*.go  the replicated state and one apply method per command
//	assign.go       the sticky balanced assignment plan
//	standby.go      standby replicas: placement, lags, promotion of caught-up ones
//	warmup.go       warm-ups for planned moves (KIP-441): a stateful task over its
//	                owner's share moves only once its new owner has caught up
//	peers.go        peers through DNS
//	hooks.go        what tests of this package may simulate (nil in production)
//
// One TCP port carries both Raft and the control RPCs (JSON over HTTP): a
// connection's first byte says which ('R' or 'C'). With Config.PeerTLS the
// port speaks only mutual TLS: the handshake, in which each side checks the
// other's certificate against the group's CA, comes before that byte, so a
// process without a certificate of the CA can neither send nor read any of
// it. Refused handshakes are counted (PeerTLS.Rejected) and logged at most
// every 10 s.
//
// The engine's side of the contract:
//
//   - Start, then follow Events(): start the tasks an AssignmentChanged lists
//     and stop the others; stop everything on Fenced; run the barrier
//     protocol on CheckpointStarted and AckCheckpoint each task's part, or
//     AbortCheckpoint it at once when the part failed (the checkpoint is
//     aborted then, not after CheckpointTimeout).
//   - Call MayRun(task) before processing a batch of a task and before
//     committing it; a false answer means stop the task now.
//   - Keep a standby of each task AssignmentChanged.Standby lists (tail its
//     changelogs) and report their lags with SetStandbyLags.
//   - Call SetRunning(tasks, lags) from the processing goroutine whenever the
//     set of running tasks changes (and now and then, for the lag): a task
//     the leader is moving away is handed to the next replica only once a
//     heartbeat says it stopped here.
//   - On shutdown stop the tasks (flushed and committed), report them
//     stopped with SetRunning, then Leave (the leader marks the member left
//     and its tasks move at once; a single replica records it itself; the
//     announcement is withdrawn), then Close.
//
// Safety: no two replicas process a task at once. A replica runs tasks only
// while it holds a lease, which lasts 2/3 of FailureTimeout from the sending
// of its last heartbeat the leader acknowledged (after confirming it still
// leads); the leader declares a member dead only FailureTimeout after it last
// heard from it, so a stalled or partitioned replica has stopped before its
// tasks move. A task moves between two live replicas in two committed steps:
// first it is released (the old owner stops it), then, once the old owner's
// heartbeat shows it has applied the release and no longer runs the task, it
// is assigned to the new owner. A restarted replica replays an old log in
// which it may still own tasks that have moved: it trusts its local state
// only once it has applied the epoch the leader had when it accepted its
// join. After its lease lapsed or it was fenced, no renewed lease counts
// until the engine has reported every task stopped (SetRunning), so work
// begun under an old lease never goes on under a new one (a paused process
// that rejoins at once). Why recovering a discovered group's lost quorum
// makes no second owner either: see recover.go.
//
// Restart time: a replica that restarts on its data directory names the
// address that directory last started at (joinRequest.Previous). That
// process is gone (it released raft.db's lock, and a node drops its lease
// before that), so the leader declares the old member dead and moves its
// tasks at once, even when the new process has a new address and the old
// one crashed. A single voter starts its election at once rather than after
// Raft's heartbeat timeout. A restarted replica processes again within about
// half a second (measured by test/e2e/restart_test.go).
//
// Failover time: a crashed replica's tasks run elsewhere about
// FailureTimeout after its last heartbeat. When the leader crashes, a new
// one is elected in roughly 0.5–1.5 s (Raft timeouts of 500 ms) and counts
// every member as heard at that moment, so the old leader's own tasks move
// about election time + FailureTimeout after the crash.
package coordinator
