// Package rocks is the RocksDB implementation of state.Backend, with one memory
// budget for the whole process.
//
// # One instance, many column families
//
// Kafka Streams opens one RocksDB instance per store partition; each brings its own
// block cache and memtables, so memory grows with the number of partitions a replica
// happens to own and has no bound. Here a replica opens ONE instance (Open) and every
// store partition is a column family of it, named store/<name>/<partition>, created
// on demand by DB.Store and reopened at start (every existing column family is opened,
// as RocksDB requires). A column family named meta holds the changelog bookkeeping.
//
// # How data flows
//
//	generated code ─▶ state.Cache[V] ─Flush at commit─▶ *Store (this package) ─▶ column family store/<name>/<p>
//	runtime, after the changelog writes of a commit are acknowledged ─▶ DB.SetChangelogOffsets ─▶ meta
//
// A Store is a byte-level state.Backend: Get copies the value out of RocksDB into a
// buffer owned by the Store (valid until the Store's next call), Put and Delete write
// through RocksDB's write-ahead log (WAL on, no fsync per write), Range iterates in key
// order. All column families share the one WAL, and RocksDB recovers a prefix of it
// after a crash, so an offset recorded in meta is never recovered without the store
// writes that preceded it. The changelog topic remains the source of truth: a store
// partition whose data may be ahead of its recorded offset is fixed by replaying the
// changelog from that offset (replaying puts and deletes in order converges); one
// that is invalid (or has no offset at all) is dropped with DropStore and restored
// from the beginning of its changelog. Checkpoint hard-links a consistent copy of the
// whole instance for snapshots.
//
// A Store is for one goroutine at a time (like every state.Backend); the DB's own
// methods are safe for concurrent use. Close and DropStore wait for calls in flight
// on the affected stores, after which those Stores return errors instead of touching
// freed memory.
//
// # Memory model
//
// Everything RocksDB caches is drawn from two process-wide pools, sized by Memory:
//
//   - Block cache (Memory.BlockCache): one LRU cache shared by the block-based table
//     options of every column family. Index and filter blocks (bloom filters, 10 bits
//     per key) are cached in it too (cache_index_and_filter_blocks, high priority,
//     level-0 ones pinned), so they count against the budget instead of growing with
//     the number of SST files.
//   - Write buffers (Memory.WriteBuffers): a hard ceiling on the memtables of all N
//     column families together (N = store partitions + meta). Each gets
//     write_buffer_size = WriteBuffers / (2·N) rounded down to a power of two, clamped
//     to [64 KiB, 64 MiB] (WriteBufferSize), and max_write_buffer_number = 2, so that
//     N × 2 × write_buffer_size ≤ WriteBuffers: a full memtable is flushed while the next
//     one fills, and if flushing falls behind RocksDB stalls writes (DB-wide) rather
//     than growing.
//     The size is re-derived when store partitions are created or dropped (it changes
//     only when N crosses a power of two, through SetOptions on every column family).
//     db_write_buffer_size = WriteBuffers on the one instance is kept as a backstop for
//     when the 64 KiB floor applies: it flushes the oldest memtable once all of them
//     together pass the pool. (RocksDB 7.8's C API has no WriteBufferManager object to
//     share across instances; with one instance db_write_buffer_size is the same thing.)
//     db_write_buffer_size alone is not a bound: it only triggers flushes, and when the
//     flush thread falls behind, every column family's memtable keeps filling: with 20
//     column families of write_buffer_size = pool/4 and 3 buffers each, a burst of small
//     writes peaked at 6–9× a 512 KiB pool. Under the rule above, TestTinyBudget (20
//     column families, 3 MiB pool, 16 MB written) peaks at about 0.75×. max_total_wal_size =
//     4×WriteBuffers forces idle column families to flush so they do not pin old WAL
//     files.
//
// # Sizing rule
//
// Give each replica one total budget T for state and split it with SplitBudget:
//
//	block cache            T/2
//	RocksDB write buffers  T/4
//	typed caches           T - T/2 - T/4   (≈ T/4: the state.Cache layers in front, all stores together)
//
// Many store partitions under a small WriteBuffers give small memtables (more, smaller
// SST files and more compaction); raise the budget, not the per-partition size. The
// typed-cache share bounds the decoded Go values held by the write-back caches;
// the runtime turns it into state.Cache entry limits (bytes ÷ estimated entry size ÷
// number of stores). Open with a zero Memory field uses the SplitBudget(DefaultBudget)
// value for it. Outside the two pools: a memtable may overrun write_buffer_size by an
// arena block (1/8 of it) before it is switched, pinned blocks can exceed the cache's
// capacity (it is not strict), and per-file table-reader objects, iterators' pinned
// blocks, the WAL's buffers and the Go heap are not counted. MemoryUsage reports what
// RocksDB actually holds (TestTinyBudget logs it).
package rocks
