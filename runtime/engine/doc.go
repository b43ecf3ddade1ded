// Package engine runs a compiled topology (a runtime.Program) against Kafka-protocol
// brokers through franz-go, with RocksDB state, changelogs and at-least-once
// processing.
//
// Start-up, in order: describe the topics and create the internal ones (repartition
// topics, and changelog topics with cleanup.policy=compact), checking that inputs
// read together are co-partitioned; open the replica's one RocksDB instance; make
// one task per sub-topology × partition; restore every store partition from its
// local state plus the changelog from the locally recorded offset, or from the
// whole changelog when local state is missing or invalid; then consume the input
// partitions directly (no consumer-group rebalancing) from the committed offsets.
//
// The loop:
//
//	poll ─▶ per topic-partition batch ─▶ Task.Process (generated code) ─▶ Emit ─▶ produce (async)
//	every commit interval: Task.Flush (caches ─▶ RocksDB + changelog) ─▶ wait for every
//	produce ack ─▶ record changelog offsets in RocksDB ─▶ commit input offsets
//
// A crash at any instant therefore loses no input: offsets are committed only after
// everything the processed records caused is acknowledged by the brokers, and
// processing restarts from them (at-least-once: duplicates are possible).
package engine
