package engine

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/state/rocks"
)

// This file divides Config.MemoryBudget (the binary's --memory) over the whole
// process. RocksDB's pools and the typed caches take the shares rocks.SplitBudget
// gives; the Kafka clients' fetch and produce buffers are bounded by kgo options
// (clientOpts adds them to every client); the Go heap as a whole gets a soft
// limit (GOMEMLIMIT, set by the binary at start through SetGoMemoryLimit), so
// the collector works harder, not the heap grows, as it nears its share; and
// the typed caches shrink when the live heap or the resident set nears its
// part (pressure.go):
//
//	MemoryBudget T ─┬─ F = min(48 MiB, T/2): code (file-backed pages), threads
//	                └─ R = T − F ─┬─ 3R/16 RocksDB block cache ┐ C++ heap, outside
//	                              ├─ R/8   RocksDB memtables   ┘ GOMEMLIMIT
//	                              ├─ R/8   typed caches        ┐
//	                              ├─ R/8   Kafka buffers       ├ Go heap:
//	                              ├─ 5R/16 processing, runtime ┘ GOMEMLIMIT = 9R/16
//	                              └─ R/8   reserve: table readers, malloc overhead
//
// The Kafka share is split in two: fetches and produce buffers. franz-go
// decodes a whole fetch into kgo.Records at once and keeps it until polled, and
// a Record is about 170 bytes before its key and value: a fetch of compressed
// small records (a click is 60 bytes of JSON, s2-compressed about 5×) takes
// about 15 times its size in memory (measured: 71 MB of []kgo.Record behind
// 1 MiB partition fetches of 8 partitions). So a fetch is at most 1/32 of the
// share (1/16 with both fetches franz-go may buffer, MaxConcurrentFetches 2), a
// partition's part of it a quarter of that: at --memory 128MiB, 320 KiB and
// 80 KiB, still some 25,000 clicks a fetch. The produce half is shared by the
// producers (at exactly-once, one per task), in bytes and in records: a
// buffered record holds about recordOverhead bytes of Go heap beyond its key
// and value (kgo.Record, franz-go's batch entry, the engine's outRecord),
// which franz-go's byte limit does not count. Bounded by bytes alone, 16
// exactly-once producers buffered up to 16 × 50,000 small records (measured:
// a live heap of 95 MB against a soft limit of 117 MiB, 207 collections and
// a fifth of the CPU in the collector for 3M clicks, against 40 MB, 46 and
// 4% at at-least-once with one producer).

// MemorySplit is one budget divided over the process.
type MemorySplit struct {
	Total int64
	// Rocks is the block cache and write-buffer pool of the replica's pool.
	Rocks rocks.Memory
	// TypedCaches bounds the decoded values of the write-back caches, all
	// stores together.
	TypedCaches int64
	// Kafka bounds what the Kafka clients hold: fetched records not yet
	// processed, produced records not yet acknowledged.
	Kafka int64
	// GoLimit is the Go runtime's soft memory limit (GOMEMLIMIT): the typed
	// caches, the Kafka buffers and everything processing allocates.
	GoLimit int64
}

// SplitMemory divides a whole-process budget (see the file comment).
func SplitMemory(total int64) MemorySplit {
	mem, typed := rocks.SplitBudget(total)
	r := total - rocks.FixedPart(total)
	return MemorySplit{Total: total, Rocks: mem, TypedCaches: typed, Kafka: r / 8, GoLimit: r / 16 * 9}
}

// Floors of the Kafka limits. A fetch below them still returns a partition's
// first batch whole (Kafka does, so a large batch cannot stall a consumer), but
// would take it one batch at a time; a producer's buffer must take a batch
// (franz-go's and Kafka's default maximum, 1 MiB).
const (
	minFetchBytes     = 256 << 10
	minFetchPartBytes = 64 << 10
	minProducerBytes  = 1 << 20
	maxFetchPartBytes = 1 << 20 // franz-go's default FetchMaxPartitionBytes
	concurrentFetches = 2
	// recordOverhead is the Go heap a buffered record takes beyond its key
	// and value; the produce share divided by it bounds the records buffered.
	recordOverhead = 256
	// minProducerRecords keeps a producer's record bound above a few batches
	// of small records; maxProducerRecords is franz-go's default.
	minProducerRecords = 1024
	maxProducerRecords = 50_000
)

// KafkaLimits are the franz-go options that keep the clients of a replica with
// budget s within s.Kafka. producers is how many producing clients may share
// the produce half (1 at least once; at exactly once, one per task), its bytes
// and its records.
func (s MemorySplit) KafkaLimits(producers int) []kgo.Opt {
	fetch := max(s.Kafka/32, minFetchBytes)
	part := min(max(fetch/4, minFetchPartBytes), maxFetchPartBytes)
	share := s.Kafka / 2 / int64(max(producers, 1))
	produce := max(share, minProducerBytes)
	records := min(max(share/recordOverhead, minProducerRecords), maxProducerRecords)
	return []kgo.Opt{
		kgo.FetchMaxBytes(int32(min(fetch, 1<<30))),
		kgo.FetchMaxPartitionBytes(int32(part)),
		kgo.MaxConcurrentFetches(concurrentFetches),
		// A response larger than this is refused before it is read: it must take
		// a whole fetch, plus a first batch over the limits (up to 1 MiB each,
		// with framing), and the largest metadata response.
		kgo.BrokerMaxReadBytes(int32(min(max(2*fetch, 4<<20), 1<<30))),
		kgo.MaxBufferedBytes(int(produce)),
		kgo.MaxBufferedRecords(int(records)),
	}
}

// SetGoMemoryLimit sets the Go runtime's soft memory limit to the budget's Go
// share, unless the GOMEMLIMIT environment variable is set (the user's choice
// wins, and the runtime has already applied it). It returns the limit in force.
func SetGoMemoryLimit(s MemorySplit, log *slog.Logger) int64 {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		limit := debug.SetMemoryLimit(-1)
		log.Info("GOMEMLIMIT is set: the Go heap's share of the memory budget is not applied", "GOMEMLIMIT", v, "go_limit_bytes", limit)
		return limit
	}
	debug.SetMemoryLimit(s.GoLimit)
	return s.GoLimit
}

// producers is how many producing clients share the Kafka budget's produce
// half: at exactly-once one per task (the tasks of every sub-topology, as a
// replica may come to run them all), else the one shared producer.
func (e *Engine) producers() int {
	if !e.cfg.ExactlyOnce {
		return 1
	}
	n := 0
	for _, p := range e.parts {
		n += int(p)
	}
	return max(n, 1)
}
