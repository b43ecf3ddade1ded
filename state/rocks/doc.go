// Package rocks is the RocksDB implementation of state.Backend: one RocksDB instance
// per task, all of them drawing from one memory budget for the whole process.
//
// # Pool, instances, column families
//
//	Pool (OpenPool: one per process, flock on dir/.lock)
//	 ├─ shared: one LRU block cache, one set of block-based table options, the write-buffer rule
//	 ├─ dir/0_0/   instance (DB) of task 0_0 (sub-topology 0, partition 0)
//	 │    ├─ column family store/<name>/<partition>   one per store partition the task owns
//	 │    └─ column family meta                        the changelog offsets of those store partitions
//	 ├─ dir/1_3/   instance of task 1_3 ...
//	 └─ dir/.staging/   where checkpoints are taken and downloads are built (same file system)
//
// Pool.Open opens (or creates) an instance by name, [A-Za-z0-9._-]+; DB.Store creates
// a store partition's column family on demand, and reopening an instance opens all of
// them, as RocksDB requires. Pool.Instances lists the instance directories on disk,
// Pool.Remove deletes a closed instance and Pool.Install replaces a closed instance's
// directory with another (a downloaded checkpoint), by rename. Pool.WriteMarker and
// Pool.TakeMarker durably write and take away a small file a caller leaves in a
// closed instance's directory (the engine's clean-shutdown marker, marker.go).
//
// # Why an instance per task
//
// The first design opened ONE instance per replica with a column family per store
// partition, because that is how RocksDB 7.8's C API lets a process bound its memory
// (it has no WriteBufferManager to share). Barrier snapshots need a task's state as a
// self-contained, restorable unit, and a task's column families cannot be cut out of
// a shared instance cheaply: RocksDB 7.8.3 cannot ingest the SST files a DB wrote
// itself (IngestExternalFile of a flushed DB's SST fails with "Corruption: External
// file version not found", measured), so restoring from such a cut would mean
// rewriting every key. With one instance per task a snapshot is simply RocksDB's
// checkpoint (flush, hard links, MANIFEST/OPTIONS/CURRENT) and a restore is Install
// plus Open. Installing and opening a 1M-key checkpoint (15 MB) took 39–122 ms where
// writing the same keys took 4.0–6.5 s, 50–100× longer (BenchmarkRestoreFromCheckpoint
// vs BenchmarkRestoreByPuts, on a shared 2-core machine). The memory bound is kept
// by the Pool (below).
//
// # How data flows
//
//	generated code ─▶ state.Cache[V] ─Flush at commit─▶ *Store (this package) ─▶ column family store/<name>/<p> of the task's DB
//	runtime, after the changelog writes of a commit are acknowledged ─▶ DB.SetChangelogOffsets ─▶ that DB's meta
//	barrier ─▶ DB.Checkpoint(dir) ─▶ files (SSTs shared with earlier checkpoints + metadata) and offsets ─▶ snapshot store
//	task start ─▶ local instance, or snapshot: download under Pool.StagingDir ─▶ ReadCheckpointOffsets ─▶ Pool.Install
//	           ─▶ Pool.Open ─▶ replay changelogs from its offsets (see Restore)
//
// A Store is a byte-level state.Backend: Get copies the value out of RocksDB into a
// buffer owned by the Store (valid until the Store's next call), Put and Delete write
// through the instance's write-ahead log (WAL on, no fsync per write), Range iterates
// in key order. All column families of an instance share its WAL, and RocksDB
// recovers a prefix of it after a crash, so an offset recorded in meta is never
// recovered without the store writes that preceded it. The changelog topic remains
// the source of truth: a store partition whose data may be ahead of its recorded
// offset is fixed by replaying the changelog from that offset (replaying puts and
// deletes in order converges); an instance with a store that has no offset, or
// one the changelog no longer covers, is not used at all (see Restore).
//
// A Store is also a state.OrderedBackend (ordered.go): Scan iterates a key range
// with RocksDB's iterate_upper_bound, and DeleteRange writes one range tombstone,
// which is how window and session stores drop expired segments. Measured with
// BenchmarkWindowExpiry (10,000 keys, insert/expire churn with a commit every
// 10,000 records; go test -run XXX -bench BenchmarkWindowExpiry
// -benchtime=400000x -count=3 ./state/rocks/, medians, on the shared 2-core
// machine, two sessions): range tombstones 5.1 and 6.2 µs per record; dropping
// the SST files inside the range first (DeleteFilesInRange) 4.9 and 8.0 µs (no
// steady gain, and RocksDB's range for it includes its end key, so it is not
// used); deleting each expired window 11.0 and 10.3 µs; a key-first layout
// without segments (a range delete per key) 10.6 and 11.7 µs, with 7× the SST
// bytes left (5.1 MB vs 0.73 MB). A session-merging count on the same keys
// (BenchmarkSessionMerge) costs 16–21 µs per record, about half of it the
// flush's writes and half the query's iterator, both cgo calls.
//
// A Store is for one goroutine at a time (like every state.Backend); the methods of
// DB and Pool are safe for concurrent use. DB.Close, Pool.Close and DropStore wait
// for calls in flight on the affected stores, after which those Stores return errors
// instead of touching freed memory.
//
// # Checkpoints
//
// DB.Checkpoint(dir) is RocksDB's CreateCheckpoint with log_size_for_flush = 0: every
// memtable is flushed, the live SST files are hard-linked, MANIFEST (cut at its live
// size), OPTIONS and CURRENT are copied. Writes that race the call may land in the
// new WAL, which is then copied too: it is part of the file set (FileMetadata) and
// is replayed on open. CheckpointInfo lists every file with its size and kind: *.sst
// files are immutable and keep their names, so a snapshot store uploads each once
// and refers to it from later checkpoints (TestIncrementalCheckpoints hashes the
// shared ones); everything else is copied every time. Name and size identify an SST
// only within a lineage: an instance restored from a checkpoint other than the
// latest allocates file numbers that the abandoned later checkpoints already used.
//
// The changelog offsets live in the instance's own meta column family, so a
// checkpoint carries the offsets of exactly the state it holds: a snapshot restores
// with no bookkeeping beside it. Checkpoint reads them back from the copy with a
// read-only open of all its column families (ReadCheckpointOffsets: 3–12 ms on a
// 1M-key checkpoint; the whole Checkpoint after 1000 writes: 15–34 ms), which also
// proves the copy opens. Reading them from the live DB instead would not be
// provably consistent with the flush point.
// VerifyCheckpoint additionally reads every entry with block checksums verified
// (0.64–1.2 s for 1M keys): a deleted, truncated or bit-flipped SST, or a missing
// MANIFEST or CURRENT, is reported (TestCorruptCheckpointDetected);
// ReadCheckpointOffsets catches all of these but the flipped bit.
//
// # Restore
//
// The runtime (runtime/engine, openTaskState and replayChangelogs) restores the
// state of a task with persistent stores when it starts the task, from the first
// source that is usable:
//
//  1. It lists the start and end offsets of the task's changelog partitions.
//  2. Local state: if the pool has an instance of the task's name, Pool.Open opens
//     it. It is usable if every store partition of the task has a recorded
//     changelog offset (DB.ChangelogOffset) within its changelog's [start, end]:
//     the changelog still holds every change after it. If not, the instance is
//     closed and deleted (Pool.Remove).
//  3. Snapshots, newest first (those of the checkpoints the coordinator recorded
//     complete, then any other manifest of the task in the snapshot store): the
//     snapshot is downloaded into a directory under Pool.StagingDir, every file's
//     size and SHA-256 checked against the manifest (state/snapshot's Download);
//     ReadCheckpointOffsets then opens it read-only, which fails unless every file
//     the MANIFEST names is there with its size. A snapshot failing either is
//     skipped for the next older one. A good one is put in place of the instance
//     with Pool.Install, opened with Pool.Open and checked as local state is (a
//     snapshot older than the changelog's retained start is deleted and the next
//     one tried).
//  4. Nothing usable: an empty instance, filled from the whole changelog.
//
// Then each store partition's changelog is replayed from the offset the state
// holds (from the changelog's start for an empty instance) up to the end listed
// in step 1, straight into its Store (Put, or Delete for a tombstone; not logged
// again), and DB.SetChangelogOffsets records those ends in one write. The restore
// path does not run VerifyCheckpoint: a full scan would cost most of the restore
// time of a large store, and RocksDB verifies each block's checksum when it reads
// the block later.
//
// Install renames the directory into place, so it must be on the pool's file system:
// callers build it under Pool.StagingDir, which OpenPool empties. Install fsyncs the
// files first; an existing instance is first renamed away, so after a crash the name
// holds either the old instance, the new one, or nothing (an empty state, restored
// again), never a mix. Remove also renames before deleting.
//
// # Memory model
//
// Everything RocksDB caches is drawn from two process-wide pools, sized by Memory and
// owned by the Pool:
//
//   - Block cache (Memory.BlockCache): one LRU cache shared by the block-based table
//     options of every column family of every instance. Index and filter blocks
//     (bloom filters, 10 bits per key) are cached in it too
//     (cache_index_and_filter_blocks, high priority, level-0 ones pinned), so they
//     count against the budget instead of growing with the number of SST files.
//     Both are partitioned (a two-level index and partitioned filters in 4 KiB
//     partitions, the top level pinned), so a large file's filter is loaded and
//     evicted a partition at a time rather than as one multi-megabyte block, and
//     each instance keeps at most 256 table readers open (max_open_files).
//     Memtables cannot be charged to the cache (RocksDB 7.8's C API, which
//     grocksdb wraps, has no WriteBufferManager): they are capped instead.
//   - Write buffers (Memory.WriteBuffers): a hard ceiling on the memtables of all N
//     column families of all open instances together (N = store partitions + one
//     meta per instance; the never-written default column families are not counted).
//     Each gets write_buffer_size = WriteBuffers / (2·N) rounded down to a power of
//     two, clamped to [64 KiB, 64 MiB] (WriteBufferSize), arena_block_size with it
//     (wbs/8, at most 1 MiB: RocksDB derives it only at open, and aborts on a memtable
//     whose arena block dwarfs write_buffer_size), and
//     max_write_buffer_number = 2, so that N × 2 × write_buffer_size ≤ WriteBuffers: a
//     full memtable is flushed while the next one fills, and if flushing falls behind
//     RocksDB stalls that instance's writes rather than growing. The size is
//     re-derived whenever N changes (an instance opens or closes, a store partition
//     is created or dropped) and, when it moves (N crossed a power of two), set with
//     SetOptions on every column family of every open instance; a growing N shrinks
//     the others before the new column families exist.
//     Per instance, db_write_buffer_size = WriteBuffers / (open instances, itself
//     included) is a backstop for when the 64 KiB floor applies; it is fixed when the
//     instance opens (RocksDB cannot change it later), so instances opened early keep
//     a larger one. An instance holding more than its share of the column families
//     can reach it before the rule's bound and flush earlier (smaller SST files),
//     which costs compaction, not memory. It is not a bound on its own: it only
//     triggers flushes, and when the flush threads fall behind every memtable keeps
//     filling (with one instance, 20 column families of write_buffer_size = pool/4
//     and 3 buffers each, a burst of small writes peaked at 6–9× a 512 KiB pool).
//     Under the rule,
//     TestTinyBudget (5 instances × 4 store partitions, 25 column families, 4 MiB of
//     write buffers, 16 MB written by 5 goroutines) peaks at about 0.6× the pool.
//     max_total_wal_size = max(4×WriteBuffers / open instances, 1 MiB), also fixed at
//     open, forces idle column families to flush so they do not pin old WAL files.
//
// Flush and compaction threads come from RocksDB's default environment, shared by all
// instances of the process.
//
// # Sizing rule
//
// Give each replica one total budget T for the whole process (the runtime's
// --memory) and split it with SplitBudget; engine.SplitMemory gives the rest.
// FixedPart(T) = min(48 MiB, T/2) is set aside (the code's pages, threads), and
// of R = T − FixedPart(T):
//
//	block cache            3R/16 (data, index and filter blocks of every store)
//	RocksDB write buffers  R/8
//	typed caches           R/8   (the state.Cache layers in front, all stores together)
//	Kafka client buffers   R/8   (fetched and not yet produced records; Go heap)
//	Go heap limit          9R/16 (GOMEMLIMIT: the typed caches, Kafka buffers and processing)
//	reserve                R/8   (table readers, allocator overhead)
//
// Many store partitions under a small WriteBuffers give small memtables (more, smaller
// SST files and more compaction); raise the budget, not the per-partition size. The
// typed-cache share bounds the decoded Go values held by the write-back caches;
// the runtime turns it into state.Cache entry limits (bytes ÷ estimated entry size ÷
// number of stores). A zero Memory field takes its share of
// SplitBudget(DefaultBudget). Outside the two pools: a memtable may overrun
// write_buffer_size by an arena block (1/8 of it) before it is switched, pinned
// blocks can exceed the cache's capacity (it is not strict), and per-file
// table-reader objects, iterators' pinned blocks, each instance's WAL buffers and
// info log, the memtables and 4 MiB caches of read-only opens of checkpoints, and
// the allocator's overhead are not counted: the reserve is for them. MemoryUsage
// (of a Pool or a DB) reports what RocksDB actually holds (TestTinyBudget logs it).
//
// # Files
//
// pool.go is the Pool (directory, lock, instance names, Close); instance.go opens
// and closes instances; memory.go is the memory budget (Memory, the write-buffer
// rule, the shared cache, usage); install.go is Install and Remove; db.go is the DB
// and its store partitions and changelog offsets; store.go is the Store;
// checkpoint.go is checkpoints and reading them; ordered.go is Scan and DeleteRange.
package rocks
