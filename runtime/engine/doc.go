// Package engine runs a compiled topology (a runtime.Program) on one replica
// against Kafka-protocol brokers through franz-go, with RocksDB state,
// changelogs, barrier checkpoints and at-least-once or exactly-once processing. The replicas of
// an application share the work through the coordinator (package coordinator).
//
// Start-up: describe the topics and create the internal ones (repartition
// topics, and changelog topics with cleanup.policy=compact), checking that
// inputs read together are co-partitioned; open the replica's RocksDB pool (one
// instance per task under one memory budget, state/rocks) and the snapshot
// store (state/snapshot); start this replica's coordinator node, which joins the
// Raft group. From then on the engine follows the node's events:
//
//	AssignmentChanged ─▶ reconcile: stop the tasks taken away (flush, acks, commit) ─▶ start the new ones:
//	                     state from local RocksDB (under exactly-once only after a clean close: marker.go),
//	                     else the newest snapshot that verifies, else nothing,
//	                     then the changelog from the state's offsets to its end; input from the committed offsets
//	                     Standby ─▶ a goroutine per standby tails its changelogs into local RocksDB (standby.go);
//	                     a standby's task assigned here starts on its open instance, replaying the tail
//	CheckpointStarted ─▶ barriers (checkpoint.go) ─▶ RocksDB checkpoint per task ─▶ background upload ─▶ ack
//	Fenced            ─▶ drop every task without writing anything more
//
// The loop (loop.go), over the inputs of the tasks this replica runs (assigned
// partitions, no consumer-group rebalancing), one step at a time:
//
//	events ─▶ poll (whole fetches: franz-go fetches the next meanwhile) ─▶ process: per topic-partition batch ─▶ (barrier control records counted, never handed on)
//	     │              ─▶ lease valid for the task? ─▶ Task.Process (generated code) ─▶ Emit ─▶ produce (async; the lease is checked per write)
//	     │              ─▶ a record that cannot be decoded: skipped or dead-lettered (counted per partition) or fatal
//	     ─▶ checkpoint barriers ─▶ every commit interval, commit: Task.Flush (caches ─▶ RocksDB + changelog)
//	     ─▶ wait for every produce ack ─▶ record changelog offsets in each task's RocksDB ─▶ commit input offsets
//	     ─▶ reconcile with the assignment (tasks that could not start under an old lease start now)
//
// Every step returns its error to the loop, and one function (classify,
// errors.go) decides: carry on, roll back one task (its transaction aborted:
// rollback.go), drop every task (the lease was lost), leave for the graceful
// stop (ctx ended), or fail (after a record's failure, committing what
// preceded it). Committing happens in one place (commit.go); under
// exactly-once it is the commit of each task's transaction (eos.go: per-task
// transactional ids, a transaction per commit interval, read_committed internal
// reads; the acks and the transactions' commit finish off the loop while it
// polls and processes the tasks whose commit is done, txncommit.go; a failed transaction rolls back its task alone, restored from
// committed state while the others run on; after a clean close a task's local
// state is kept and marked, marker.go, and used at its next start).
//
// A crash at any instant therefore loses no input: offsets are committed only after
// everything the processed records caused is acknowledged by the brokers, and
// processing restarts from them (at-least-once: duplicates are possible). A task
// runs on one replica at a time: it starts only under a valid lease, the lease
// ends before the coordinator may give the task to another replica, and a write
// attempted after the lease ran out (a paused process) is dropped and nothing is
// committed after it.
//
// Files: engine.go (Run, start-up, state, the coordinator node), loop.go (the
// loop and coordinator events), process.go (batches and bad records),
// produce.go (writes and acks; produced records are recycled after their
// ack), commit.go, eos.go (exactly-once), rollback.go
// (rolling back one task), marker.go (clean-shutdown markers), errors.go,
// global.go (global tables: restored after the state opens and before the
// node starts, then followed by a goroutine of their own),
// tasks.go (a task's life: reconcile, start, stop, discard), standby.go (standby
// tasks: warm copies of other replicas' tasks), restore.go (local
// state, snapshots, changelog replay), checkpoint.go (barriers and uploads), topics.go (planning
// and creating topics), status.go and metrics.go (/status, /healthz, /readyz and
// /metrics).
//
// In steady state the loop allocates nothing per record outside the
// serdes, only per batch and per commit: the test TestNoAllocationPerRecord
// and package enginetest (which measures it against a broker in another
// process) keep it so.
package engine
