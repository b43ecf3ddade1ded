package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
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
	consumer *kgo.Client // over the running tasks' inputs; nil when there are none
	adm      *kadm.Client
	pool     *rocks.Pool
	node     *coordinator.Node
	snaps    snapshot.Store
	uploader *snapshot.Uploader
	status   *statusServer
	metrics  *metrics

	topics       []*topicInfo
	parts        []int32 // partitions (tasks) per sub-topology
	routes       map[string][]route
	cacheEntries int
	tasks        map[taskKey]*task // the running tasks
	batch        []runtime.Record  // reused for every fetched partition

	// positions are the next input offsets to process and commit for the running
	// tasks' inputs (-1: from the start).
	positions map[topicPartition]int64

	ckpt *checkpoints

	mu         sync.Mutex // guards what produce callbacks write
	produceErr error
	changelogs map[topicPartition]int64 // next offset of each changelog partition, as acked

	processed, skipped, deadLettered int64
	fencedWrites                     int64 // writes dropped because the lease had run out
}

// errLeaseLost: the lease ran out while tasks were writing; the loop drops
// every task (discardTasks) instead of committing.
var errLeaseLost = errors.New("the coordinator lease ran out")

type taskKey struct {
	subTopology int
	partition   int32
}

func (k taskKey) String() string { return k.id().String() }

func (k taskKey) id() coordinator.TaskID {
	return coordinator.TaskID{SubTopology: k.subTopology, Partition: k.partition}
}

type task struct {
	key    taskKey
	id     coordinator.TaskID
	t      runtime.Task
	db     *rocks.DB // the task's own RocksDB instance; nil without persistent stores
	stores []*storePartition
	inputs []topicPartition

	restoredFrom    string
	restoreTime     time.Duration
	restoredRecords int64
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
		tasks: map[taskKey]*task{}, routes: map[string][]route{},
		positions: map[topicPartition]int64{}, changelogs: map[topicPartition]int64{},
		metrics: newMetrics(),
	}
	e.ckpt = newCheckpoints(e)
	defer e.close()
	var err error
	e.producer, err = kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.WithLogger(kgoLogger{e.log}),
	)
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
		{"plan topics", e.planTopics},
		{"open state", e.openState},
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
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (e *Engine) close() {
	e.closeConsumer()
	if e.ckpt != nil {
		e.ckpt.wait() // uploads in flight finish (or fail) before the state closes
	}
	for _, t := range e.tasks {
		if t.db != nil {
			t.db.Close()
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
	mem, typedBytes := rocks.SplitBudget(e.cfg.MemoryBudget)
	dir := filepath.Join(e.replicaDir(), "state")
	var err error
	if e.pool, err = rocks.OpenPool(dir, mem); err != nil {
		return err
	}
	if e.snaps, err = snapshot.Open(ctx, e.cfg.Snapshots, e.cfg.SnapshotsOptions); err != nil {
		return fmt.Errorf("snapshot store %s: %w", e.cfg.Snapshots, err)
	}
	e.uploader = snapshot.NewUploader(e.snaps, e.cfg.AppID, e.log)
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
	for _, st := range e.prog.SubTopologies {
		for i, src := range st.Sources {
			for _, id := range src.Topics {
				name := e.topics[id].name
				e.routes[name] = append(e.routes[name], route{subTopology: st.ID, source: i})
			}
		}
	}
	e.log.Info("state opened", "dir", dir, "snapshots", e.cfg.Snapshots, "block_cache_bytes", mem.BlockCache,
		"write_buffer_bytes", mem.WriteBuffers, "cache_entries_per_store", e.cacheEntries)
	return nil
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
	cc.Tasks = nil
	for _, st := range e.prog.SubTopologies {
		for p := int32(0); p < e.parts[st.ID]; p++ {
			cc.Tasks = append(cc.Tasks, coordinator.TaskID{SubTopology: st.ID, Partition: p})
		}
	}
	node, err := coordinator.Start(ctx, cc)
	if err != nil {
		return err
	}
	e.node = node
	return nil
}

// loop follows the coordinator's events, polls, processes and commits until
// ctx ends or processing fails.
func (e *Engine) loop(ctx context.Context) error {
	lastCommit := time.Now()
	lastFetchErr := time.Time{}
	for {
		if err := e.handleEvents(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if e.consumer == nil {
			// No tasks here (yet): wait for the coordinator.
			select {
			case <-ctx.Done():
			case ev := <-e.node.Events():
				if err := e.handle(ctx, ev); err != nil && ctx.Err() == nil {
					return err
				}
			case <-time.After(e.cfg.CommitInterval):
				if err := e.reconcile(ctx, e.node.Mine()); err != nil && ctx.Err() == nil {
					return err
				}
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		// Poll briefly, so that coordinator events (a task moving, a checkpoint,
		// fencing) are handled within a fraction of a second even when idle.
		pollCtx, cancel := context.WithTimeout(ctx, max(min(e.cfg.CommitInterval-time.Since(lastCommit), 100*time.Millisecond), time.Millisecond))
		fetches := e.consumer.PollRecords(pollCtx, 10_000)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) {
				return // the poll's own time limit: nothing arrived
			}
			if time.Since(lastFetchErr) > 5*time.Second { // a broker outage would flood the log
				e.log.Warn("fetch failed; retrying", "topic", topic, "partition", p, "err", err)
				lastFetchErr = time.Now()
			}
		})
		var fatal error
		skipped := false
		fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
			if fatal != nil || skipped {
				return
			}
			e.metrics.observeLag(ftp)
			if len(ftp.Records) == 0 {
				return
			}
			// Nothing is processed for a task this replica may no longer run:
			// its lease lapsed, or the task was just taken away.
			for _, rt := range e.routes[ftp.Topic] {
				if e.tasks[taskKey{rt.subTopology, ftp.Partition}] != nil && !e.node.MayRun(coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}) {
					skipped = true
					return
				}
			}
			fatal = e.processPartition(ftp)
		})
		if skipped {
			if valid, epoch := e.node.Lease(); !valid {
				e.discardTasks(ctx, fmt.Sprintf("lease lapsed (epoch %d)", epoch))
				continue
			}
			// Only some tasks moved: stop those (the assignment event is on its
			// way, or already applied), and re-read from the positions of what
			// was processed, since the consumer went past what was skipped.
			if err := e.reconcile(ctx, e.node.Mine()); err != nil {
				if ctx.Err() != nil {
					break
				}
				return err
			}
			if err := e.rebuildConsumer(); err != nil {
				return err
			}
			continue
		}
		if fatal != nil {
			// Commit what was processed before the failing record; bounded, so
			// that unreachable brokers cannot keep a failed application alive.
			stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := e.commit(stop); err != nil {
				e.log.Error("commit after failure", "err", err)
			}
			cancel()
			return fatal
		}
		if err := e.ckpt.advance(ctx); err != nil {
			if errors.Is(err, errLeaseLost) {
				e.discardTasks(ctx, err.Error())
				continue
			}
			if ctx.Err() != nil {
				break // stopping mid-checkpoint: the coordinator aborts it
			}
			return err
		}
		if time.Since(lastCommit) >= e.cfg.CommitInterval {
			if err := e.commit(ctx); err != nil {
				if errors.Is(err, errLeaseLost) {
					e.discardTasks(ctx, err.Error())
					continue
				}
				if ctx.Err() != nil {
					break // stopping (SIGTERM) mid-commit: the final commit below does it
				}
				return err
			}
			lastCommit = time.Now()
			// Catch up with the assignment: tasks that could not start while
			// the lease was being acquired start now.
			if err := e.reconcile(ctx, e.node.Mine()); err != nil {
				if errors.Is(err, errLeaseLost) {
					e.discardTasks(ctx, err.Error())
					continue
				}
				if ctx.Err() != nil {
					break
				}
				return err
			}
		}
	}
	// Graceful stop: what was processed is flushed and committed, then the
	// replica leaves the group so its tasks move at once.
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.commit(stop); errors.Is(err, errLeaseLost) {
		e.discardTasks(stop, err.Error())
	} else if err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	for _, t := range e.tasks {
		e.closeTask(t)
	}
	e.reportRunning()
	if err := e.node.Leave(stop); err != nil {
		e.log.Warn("leave the coordinator group", "err", err)
	}
	e.log.Info("stopped", "processed", e.processed, "skipped", e.skipped, "dead_lettered", e.deadLettered)
	return nil
}

// handleEvents handles every coordinator event already waiting.
func (e *Engine) handleEvents(ctx context.Context) error {
	for {
		select {
		case ev := <-e.node.Events():
			if err := e.handle(ctx, ev); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (e *Engine) handle(ctx context.Context, ev coordinator.Event) error {
	switch ev := ev.(type) {
	case coordinator.AssignmentChanged:
		e.log.Info("assignment", "epoch", ev.Epoch, "tasks", len(ev.Mine))
		err := e.reconcile(ctx, ev.Mine)
		if errors.Is(err, errLeaseLost) {
			e.discardTasks(ctx, err.Error())
			return nil
		}
		return err
	case coordinator.CheckpointStarted:
		e.ckpt.start(ev.ID)
	case coordinator.CheckpointFinished:
		e.ckpt.finished(ctx, ev.ID, ev.Complete)
	case coordinator.Fenced:
		e.discardTasks(ctx, ev.Reason)
	}
	return nil
}

// reportRunning tells the coordinator which tasks run here (its heartbeats carry
// them to the leader, which moves a task only once its old owner stopped it).
func (e *Engine) reportRunning() {
	ids := make([]coordinator.TaskID, 0, len(e.tasks))
	for k := range e.tasks {
		ids = append(ids, k.id())
	}
	lags := e.metrics.lagByTask(e)
	e.node.SetRunning(ids, lags)
	e.publishView(lags)
}

// processPartition runs one fetched partition's records through every source
// reading the topic, and advances the position to commit. Barrier control
// records are taken out of the batch and counted; user code never sees them.
func (e *Engine) processPartition(ftp kgo.FetchTopicPartition) error {
	e.batch = e.batch[:0]
	for _, r := range ftp.Records {
		if len(r.Headers) > 0 && r.Headers[0].Key == barrierHeader {
			e.ckpt.barrier(ftp.Topic, ftp.Partition, r)
			continue
		}
		e.batch = append(e.batch, runtime.Record{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value,
		})
	}
	tp := topicPartition{ftp.Topic, ftp.Partition}
	next := ftp.Records[len(ftp.Records)-1].Offset + 1
	if len(e.batch) == 0 {
		e.positions[tp] = next
		return nil
	}
	for _, rt := range e.routes[ftp.Topic] {
		t := e.tasks[taskKey{rt.subTopology, ftp.Partition}]
		if t == nil {
			continue // read for another task of this replica; this one is not here
		}
		if failedAt, err := e.process(t, rt.source, e.batch); err != nil {
			e.positions[tp] = min(next, failedAt)
			return err
		}
	}
	e.processed += int64(len(e.batch))
	e.metrics.processed.Add(float64(len(e.batch)))
	e.positions[tp] = next
	return nil
}

// process runs a batch through a task, applying the bad-record policy to records
// that cannot be decoded. On a fatal error it returns the offset of the record
// that failed: nothing at or after it may be committed.
func (e *Engine) process(t *task, source int, batch []runtime.Record) (int64, error) {
	for len(batch) > 0 {
		err := runtime.ProcessSafely(t.t, source, batch)
		if err == nil {
			return 0, nil
		}
		i := t.t.Current()
		if i < 0 || i >= len(batch) {
			return batch[0].Offset, err
		}
		var re *runtime.RecordError
		if !errors.As(err, &re) || !strings.HasPrefix(re.Stage, "decode") || e.cfg.OnBadRecord == Fail {
			if re != nil && len(re.Stack) > 0 {
				e.log.Error("user function panicked", "topic", re.Topic, "partition", re.Partition, "offset", re.Offset, "panic", re.Err, "stack", string(re.Stack))
			}
			return batch[i].Offset, err
		}
		bad := &batch[i]
		if e.cfg.OnBadRecord == DeadLetter {
			e.produce(e.cfg.DeadLetterTopic, 0, bad.Key, bad.Value, []kgo.RecordHeader{
				{Key: "gofka.error", Value: []byte(re.Error())},
				{Key: "gofka.topic", Value: []byte(bad.Topic)},
				{Key: "gofka.partition", Value: []byte(strconv.Itoa(int(bad.Partition)))},
				{Key: "gofka.offset", Value: []byte(strconv.FormatInt(bad.Offset, 10))},
			})
			e.deadLettered++
		} else {
			e.skipped++
		}
		e.log.Warn("bad record", "policy", e.cfg.OnBadRecord, "topic", bad.Topic, "partition", bad.Partition, "offset", bad.Offset, "err", re.Err)
		batch = batch[i+1:]
	}
	return 0, nil
}

// Emit implements runtime.Emitter: records are partitioned by key as Kafka's
// default partitioner does, so other clients agree on where a key lives.
func (e *Engine) Emit(topic runtime.TopicID, key, value []byte) {
	t := e.topics[topic]
	var p int32
	if key == nil {
		p = int32(t.rr % uint32(t.partitions))
		t.rr++
	} else {
		p = runtime.Partition(key, t.partitions)
	}
	e.produce(t.name, p, key, value, nil)
}

// produce copies key and value (callers reuse their buffers) and sends them
// asynchronously; commit waits for the acks.
func (e *Engine) produce(topic string, p int32, key, value []byte, headers []kgo.RecordHeader) {
	if !e.node.LeaseHeld() {
		// The lease ran out under this write (the process was paused in the
		// middle of a batch or a flush): another replica may own the task
		// now. Drop it; flushTasks sees the count and nothing is committed.
		e.fencedWrites++
		return
	}
	buf := make([]byte, len(key)+len(value))
	var k, v []byte
	if key != nil {
		k = buf[:len(key):len(key)]
		copy(k, key)
	}
	if value != nil {
		v = buf[len(key):]
		copy(v, value)
	}
	e.producer.Produce(context.Background(), &kgo.Record{Topic: topic, Partition: p, Key: k, Value: v, Headers: headers}, e.acked)
}

// acked records produce failures and the changelog offsets reached.
func (e *Engine) acked(r *kgo.Record, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if errors.Is(err, kgo.ErrAborting) {
			return // dropped on purpose when the replica was fenced
		}
		if e.produceErr == nil {
			e.produceErr = fmt.Errorf("produce to topic %s partition %d: %w", r.Topic, r.Partition, err)
		}
		return
	}
	tp := topicPartition{r.Topic, r.Partition}
	if _, ok := e.changelogs[tp]; ok || e.isChangelog(r.Topic) {
		e.changelogs[tp] = max(e.changelogs[tp], r.Offset+1)
	}
}

func (e *Engine) isChangelog(topic string) bool {
	for _, t := range e.topics {
		if t.name == topic {
			return t.kind == runtime.ChangelogTopic
		}
	}
	return false
}

// commit makes everything the running tasks processed durable.
func (e *Engine) commit(ctx context.Context) error {
	tasks := make([]*task, 0, len(e.tasks))
	for _, t := range e.tasks {
		tasks = append(tasks, t)
	}
	return e.commitTasks(ctx, tasks)
}

// commitTasks makes everything the given tasks processed durable, in the order
// at-least-once needs: state to RocksDB and changelogs, every produce
// acknowledged, changelog offsets recorded in each task's state, and only then
// input offsets committed.
func (e *Engine) commitTasks(ctx context.Context, tasks []*task) error {
	if err := e.flushTasks(ctx, tasks); err != nil {
		return err
	}
	var commit kadm.Offsets
	for _, t := range tasks {
		for _, tp := range t.inputs {
			if at, ok := e.positions[tp]; ok && at >= 0 {
				commit.Add(kadm.Offset{Topic: tp.topic, Partition: tp.partition, At: at, LeaderEpoch: -1})
			}
		}
	}
	if len(commit) == 0 {
		return nil
	}
	// Retriable failures (a leader moving, metadata catching up) are retried with
	// backoff; the offsets stay uncommitted until one attempt succeeds.
	for attempt := 1; ; attempt++ {
		resp, err := e.adm.CommitOffsets(ctx, e.cfg.AppID, commit)
		if err == nil {
			err = resp.Error()
		}
		if err == nil {
			return nil
		}
		if attempt == 10 || !kerr.IsRetriable(err) || ctx.Err() != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
		e.log.Warn("commit offsets failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// flushTasks writes the tasks' cached state to their stores and changelogs,
// waits until every produce is acknowledged, and records in each task's state
// the changelog offsets its stores now cover.
func (e *Engine) flushTasks(ctx context.Context, tasks []*task) error {
	if !e.node.LeaseHeld() || e.fencedWrites > 0 {
		return errLeaseLost
	}
	for _, t := range tasks {
		if err := t.t.Flush(); err != nil {
			return fmt.Errorf("flush task %s: %w", t.key, err)
		}
	}
	if err := e.producer.Flush(ctx); err != nil {
		return fmt.Errorf("wait for produce acks: %w", err)
	}
	if e.fencedWrites > 0 {
		return errLeaseLost // some of what was flushed was dropped
	}
	e.mu.Lock()
	perr := e.produceErr
	offsets := map[*task]map[rocks.StorePartition]int64{}
	for _, t := range tasks {
		for _, sp := range t.stores {
			if !sp.spec.Persistent {
				continue
			}
			if o, ok := e.changelogs[topicPartition{sp.changelog, sp.partition}]; ok {
				if offsets[t] == nil {
					offsets[t] = map[rocks.StorePartition]int64{}
				}
				offsets[t][rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = o
			}
		}
	}
	e.mu.Unlock()
	if perr != nil {
		return perr // nothing is committed past records whose output was lost
	}
	for t, o := range offsets {
		if err := t.db.SetChangelogOffsets(o); err != nil {
			return fmt.Errorf("record changelog offsets of task %s: %w", t.key, err)
		}
	}
	return nil
}
