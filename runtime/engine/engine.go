package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/kafkaconf"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
	"github.com/gofka/streams/state/snapshot"
)

// Engine runs one program on one replica.
type Engine struct {
	cfg  Config
	prog *runtime.Program
	log  *slog.Logger

	producer *kgo.Client
	out      *outPool    // recycles the records of producer
	consumer *kgo.Client // over the running tasks' inputs; nil when there are none
	adm      *kadm.Client
	watch    *kafkaconf.Watch // sees every connection of every client, to explain failures
	pool     *rocks.Pool
	node     *coordinator.Node
	// liveNode is node for the status server's goroutines, which may read
	// it while startNode sets it.
	liveNode atomic.Pointer[coordinator.Node]
	snaps    snapshot.Store
	uploader *snapshot.Uploader
	status   *statusServer
	metrics  *metrics

	topics        []*topicInfo
	parts         []int32 // partitions (tasks) per sub-topology
	routes        map[string][]route
	orderedTopics map[string]bool // topics whose records are merged in time order with others' (order.go)
	wm            *watermarks     // event-time progress of the running tasks (WithWatermark)
	cacheEntries  int
	pressure      *pressure                         // shrinks the caches under memory pressure (pressure.go)
	memory        MemorySplit                       // MemoryBudget over the process (memory.go)
	tasks         map[coordinator.TaskID]*task      // the running tasks
	taskCounts    map[coordinator.TaskID]*taskCount // starts and rollbacks, for /status
	batch         []runtime.Record                  // reused for every fetched partition
	batchTimes    []int64                           // the batch's Kafka timestamps, when several sources read its topic

	// positions are the next input offsets to process and commit for the running
	// tasks' inputs (-1: from the start).
	positions map[topicPartition]int64

	// standbys are the standby tasks kept here (standby.go), guarded by sbMu
	// (their goroutines report lags); promoted are the tasks whose standby
	// was stopped to start them here, for the source their restore names.
	sbMu     sync.Mutex
	standbys map[coordinator.TaskID]*standbyTask
	promoted map[coordinator.TaskID]bool
	warm     map[coordinator.TaskID]*rocks.DB // promoted standbys' open instances, for startTask

	ckpt *checkpoints

	globals *globalTables // global tables (global.go); nil without any

	mu         sync.Mutex // guards what produce callbacks write
	produceErr error
	changelogs map[topicPartition]int64 // next offset of each changelog partition, as acked

	started      time.Time // when Run began
	lastPurge    time.Time // when committed repartition records were last deleted (purge.go)
	processed    int64
	bad          badRecords // skipped and dead-lettered records, per input partition
	fencedWrites int64      // writes dropped because the lease had run out

	// Exactly-once commits in flight (txncommit.go): how many, the cancels of
	// their contexts, and the phases of the round, logged when it settles.
	pendingCommits int
	heldEvent      coordinator.Event // taken while a commit failed; handled after the rollback
	cancelCommits  []context.CancelFunc
	commitStarted  time.Time
	txnCommitted   kadm.Offsets // input offsets committed since the last purge of repartition topics
	commitTook     commitTimes
}

// task is one task running on this replica.
type task struct {
	id     coordinator.TaskID
	t      runtime.Task
	db     *rocks.DB // the task's own RocksDB instance; nil without persistent stores
	stores []*storePartition
	inputs []topicPartition
	// producer writes the task's output, changelog and barriers: the engine's
	// shared producer, or under exactly-once the task's transactional one.
	producer   *kgo.Client
	ack        func(*kgo.Record, error) // the produce callback (ackFunc)
	out        *outPool                 // recycles the records of producer
	produceErr error                    // the first write of its own producer that failed (guarded by Engine.mu)
	txnRecords int64                    // records produced since the last commit
	committing *txnCommit               // its transaction committing off the loop, until settled (txncommit.go)

	// processedBy is the task's series of gofka_process_total (resolved
	// once: processPartition adds each batch to it).
	processedBy prometheus.Counter

	restoredFrom    string
	startedAt       time.Time // when the task finished starting here
	restoreTime     time.Duration
	restoredRecords int64
	processed       int64 // input records processed since it started here (/status)

	// late counts the records its windowed aggregations found late; lateShown is
	// how many of them /metrics already counts (publishView).
	late      runtime.LateCounter
	lateShown int64
	// nullKeys counts the records dropped for a null key before a stateful step
	// or a join; nullKeysShown as lateShown.
	nullKeys      runtime.LateCounter
	nullKeysShown int64
}

// taskCount is what happened to a task in this process, for /status.
type taskCount struct {
	starts    int // startTask succeeded
	rollbacks int // rolled back alone after its transaction aborted (rollback.go)
}

func (e *Engine) counts(k coordinator.TaskID) *taskCount {
	c := e.taskCounts[k]
	if c == nil {
		c = &taskCount{}
		e.taskCounts[k] = c
	}
	return c
}

// storePartition is one partition of one store: a task's share of it.
type storePartition struct {
	spec      runtime.StoreSpec
	partition int32
	raw       state.Backend // RocksDB or memory, without the changelog
	changelog string
}

type route struct {
	subTopology int
	source      int
}

type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string { return tp.topic + "/" + strconv.Itoa(int(tp.partition)) }

// Run runs prog until ctx is cancelled (a graceful stop: the batch in hand is
// finished, state flushed, offsets committed and the coordinator group left) or
// processing fails.
func Run(ctx context.Context, prog *runtime.Program, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	e := &Engine{
		cfg: cfg, prog: prog, log: cfg.Logger.With("app", cfg.AppID, "replica", cfg.ReplicaID),
		tasks: map[coordinator.TaskID]*task{}, taskCounts: map[coordinator.TaskID]*taskCount{}, routes: map[string][]route{},
		positions: map[topicPartition]int64{}, changelogs: map[topicPartition]int64{},
		standbys: map[coordinator.TaskID]*standbyTask{}, promoted: map[coordinator.TaskID]bool{},
		warm:    map[coordinator.TaskID]*rocks.DB{},
		metrics: newMetrics(), started: time.Now(), out: &outPool{},
		memory: SplitMemory(cfg.MemoryBudget),
	}
	e.metrics.countPeerTLS(cfg.Cluster.PeerTLS)
	e.ckpt = newCheckpoints(e)
	e.watch = kafkaconf.NewWatch(cfg.KafkaOptions)
	defer e.close()
	var err error
	e.producer, err = kgo.NewClient(e.clientOpts(
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	e.adm = kadm.NewClient(e.producer)
	if cfg.StatusAddr != "" {
		e.status, err = startStatus(e, cfg.StatusAddr)
		if err != nil && cfg.StatusAddrFallback {
			e.log.Warn("status endpoint: the default address is taken; using a free port", "addr", cfg.StatusAddr, "err", err)
			e.status, err = startStatus(e, "127.0.0.1:0")
		}
		if err != nil {
			return err
		}
	}

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"reach the brokers", e.checkBrokers},
		{"plan topics", e.planTopics},
		{"open state", e.openState},
		{"restore global tables", e.startGlobals},
		{"join the coordinator group", e.startNode},
	}
	for _, s := range steps {
		for attempt := 0; ; attempt++ {
			err := s.fn(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil // stopped during start-up
			}
			if err := e.watch.Explain(err); kafkaconf.IsFatal(err) {
				return err // names the broker and the cause already
			}
			if !unreachable(err) {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			// The brokers may start after the application (a machine or a
			// compose file coming up): wait for them rather than exit.
			wait := min(250*time.Millisecond<<min(attempt, 5), 5*time.Second)
			e.log.Warn("cannot reach the brokers; retrying", "step", s.name, "in", wait, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
	return e.loop(ctx)
}

// unreachable reports whether err means the brokers could not be reached, as
// opposed to an answer that retrying would not change.
func unreachable(err error) bool {
	if kafkaconf.IsFatal(err) {
		return false
	}
	if kafkaconf.IsUnreachable(err) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// clientOpts are the options of every Kafka client of the engine: the brokers,
// the security settings, the watch, the logger, then extra.
func (e *Engine) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(e.cfg.Brokers...), kgo.WithLogger(kgoLogger{e.log}), kgo.WithHooks(e.watch)}
	opts = append(opts, e.memory.KafkaLimits(e.producers())...) // before the user's options, which may override them
	opts = append(opts, e.cfg.KafkaOptions...)
	return append(opts, extra...)
}

// checkBrokers connects to the brokers before anything else, so that settings
// the brokers refuse (credentials, certificates, TLS against plaintext) end the
// run at once with the broker and the cause named, while brokers that are only
// unreachable are waited for (Run's steps retry).
func (e *Engine) checkBrokers(ctx context.Context) error {
	return e.watch.Check(ctx, e.cfg.Brokers, append(e.cfg.KafkaOptions, kgo.WithLogger(kgoLogger{e.log})), 10*time.Second)
}

func (e *Engine) close() {
	e.closeConsumer()
	e.closeGlobals()
	if e.ckpt != nil {
		e.ckpt.wait() // uploads in flight finish (or fail) before the state closes
	}
	e.stopAllStandbys() // before the pool closes
	e.closeWarmExcept(nil)
	for _, t := range e.tasks {
		if t.db != nil {
			t.db.Close()
		}
		if t.producer != nil && t.producer != e.producer {
			t.producer.Close() // an open transaction is aborted by the task's next producer, or times out
		}
	}
	if e.node != nil {
		e.node.Close()
	}
	if e.status != nil {
		e.status.close()
	}
	if e.producer != nil {
		e.producer.Close()
	}
	if e.pool != nil {
		e.pool.Close()
	}
}

// openState opens the replica's RocksDB pool (one instance per task, one memory
// budget) and the snapshot store, and routes input topics to sources.
func (e *Engine) openState(ctx context.Context) error {
	mem, typedBytes := e.memory.Rocks, e.memory.TypedCaches
	dir := filepath.Join(e.replicaDir(), "state")
	var err error
	if e.pool, err = rocks.OpenPool(dir, mem); err != nil {
		return err
	}
	if e.snaps, err = snapshot.Open(ctx, e.cfg.Snapshots, e.cfg.SnapshotsOptions); err != nil {
		return fmt.Errorf("snapshot store %s: %w", e.cfg.Snapshots, err)
	}
	e.uploader = snapshot.NewUploader(faultyStore(e.snaps), e.cfg.AppID, e.log)
	e.warnOldSnapshots()
	// The typed caches share their part of the budget. A replica may come to run
	// every task, so each store partition's share assumes it does; an entry is
	// costed at 128 bytes (key, value, map and bookkeeping), a deliberate
	// overestimate for small aggregates.
	storePartitions := 0
	for _, s := range e.prog.Stores {
		storePartitions += int(e.parts[s.SubTopology])
	}
	if storePartitions > 0 {
		e.cacheEntries = max(1000, int(typedBytes/128)/storePartitions)
	}
	e.pressure = newPressure(newRuntimeMemory(), e.memory, e.cacheEntries, e.log)
	for _, st := range e.prog.SubTopologies {
		for i, src := range st.Sources {
			for _, id := range src.Topics {
				name := e.topics[id].name
				e.routes[name] = append(e.routes[name], route{subTopology: st.ID, source: i})
			}
		}
	}
	e.orderedTopics = orderedTopics(e.routes)
	e.wm = newWatermarks(e)
	e.log.Info("state opened", "dir", dir, "snapshots", e.cfg.Snapshots, "block_cache_bytes", mem.BlockCache,
		"write_buffer_bytes", mem.WriteBuffers, "cache_entries_per_store", e.cacheEntries,
		"kafka_buffer_bytes", e.memory.Kafka, "go_heap_share_bytes", e.memory.GoLimit)
	e.checkMemory(mem)
	return nil
}

// checkMemory warns when the budget cannot hold the memtables of every task at
// their floor. A replica may come to run every task, so the check assumes it
// does: RocksDB would then hold more than the budget, not stall.
func (e *Engine) checkMemory(mem rocks.Memory) {
	cfs := 0 // a column family per persistent store partition, one meta per instance
	for _, st := range e.prog.SubTopologies {
		stores := 0
		for _, si := range st.Stores {
			if e.prog.Stores[si].Persistent {
				stores++
			}
		}
		if stores > 0 {
			cfs += int(e.parts[st.ID]) * (stores + 1)
		}
	}
	if need := rocks.MinWriteBuffers(cfs); cfs > 0 && mem.WriteBuffers < need {
		e.log.Warn("the memory budget is too small for the memtables of every task: RocksDB may exceed it; raise --memory",
			"column_families", cfs, "write_buffer_bytes", mem.WriteBuffers, "needed", need, "memory_at_least", 8*need)
	}
}

// warnOldSnapshots points at snapshots an earlier version kept under
// <state dir>/<app id>/snapshots, when the default store is used: they are not
// found at the new default, <state dir>/snapshots.
func (e *Engine) warnOldSnapshots() {
	def, err := filepath.Abs(filepath.Join(e.cfg.StateDir, "snapshots"))
	if err != nil || e.cfg.Snapshots != "file://"+def {
		return
	}
	old := filepath.Join(e.cfg.StateDir, e.cfg.AppID, "snapshots", e.cfg.AppID)
	if _, err := os.Stat(old); err == nil {
		e.log.Warn("snapshots of an earlier version are not used: move them to the snapshot store to restore from them",
			"found", old, "store", filepath.Join(def, e.cfg.AppID))
	}
}

// replicaDir holds the replica's local state: its RocksDB instances (state/) and
// its Raft log and snapshots (raft/).
func (e *Engine) replicaDir() string {
	return filepath.Join(e.cfg.StateDir, e.cfg.AppID, e.cfg.ReplicaID)
}

// startNode starts this replica's coordinator node; the loop then follows its
// events (assignment, checkpoints, fencing).
func (e *Engine) startNode(ctx context.Context) error {
	cc := e.cfg.Cluster
	if cc.ID == "" {
		cc.ID = e.cfg.ReplicaID
	}
	if cc.DataDir == "" {
		cc.DataDir = filepath.Join(e.replicaDir(), "raft")
	}
	if cc.StatusAddr == "" && e.status != nil {
		cc.StatusAddr = e.status.addr
	}
	cc.Logger = e.log
	cc.Tasks, cc.StatefulTasks = nil, nil
	for _, st := range e.prog.SubTopologies {
		for p := int32(0); p < e.parts[st.ID]; p++ {
			k := coordinator.TaskID{SubTopology: st.ID, Partition: p}
			cc.Tasks = append(cc.Tasks, k)
			if e.stateful(k) {
				cc.StatefulTasks = append(cc.StatefulTasks, k)
			}
		}
	}
	node, err := coordinator.Start(ctx, cc)
	if err != nil {
		return err
	}
	e.node = node
	e.liveNode.Store(node)
	e.metrics.countRaft(node)
	return nil
}
