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

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// Engine runs one program on one replica.
type Engine struct {
	cfg  Config
	prog *runtime.Program
	log  *slog.Logger

	producer *kgo.Client
	consumer *kgo.Client
	adm      *kadm.Client
	db       *rocks.DB

	topics []*topicInfo
	parts  []int32 // partitions (tasks) per sub-topology
	tasks  map[taskKey]*task
	routes map[string][]route // input topic -> the sources that read it
	batch  []runtime.Record   // reused for every fetched partition

	// positions are the next input offsets to commit, per topic and partition.
	positions map[string]map[int32]int64

	mu         sync.Mutex // guards what produce callbacks write
	produceErr error
	changelogs map[topicPartition]int64 // next offset of each changelog partition, as acked

	restoreFrom, restoreEnd map[topicPartition]int64 // set by planRestore

	processed, skipped, deadLettered int64
}

type taskKey struct {
	subTopology int
	partition   int32
}

type task struct {
	key    taskKey
	t      runtime.Task
	stores []*storePartition
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

// Run runs prog until ctx is cancelled (a graceful stop: the batch in hand is
// finished, state flushed and offsets committed) or processing fails.
func Run(ctx context.Context, prog *runtime.Program, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	e := &Engine{
		cfg: cfg, prog: prog, log: cfg.Logger.With("app", cfg.AppID, "replica", cfg.ReplicaID),
		tasks: map[taskKey]*task{}, routes: map[string][]route{},
		positions: map[string]map[int32]int64{}, changelogs: map[topicPartition]int64{},
	}
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

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"plan topics", e.planTopics},
		{"open state", e.openState},
		{"restore state", e.restore},
		{"start consuming", e.startConsuming},
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
	if e.consumer != nil {
		e.consumer.Close()
	}
	if e.producer != nil {
		e.producer.Close()
	}
	if e.db != nil {
		e.db.Close()
	}
}

// openState opens the replica's RocksDB instance and makes the tasks.
func (e *Engine) openState(ctx context.Context) error {
	mem, typedBytes := rocks.SplitBudget(e.cfg.MemoryBudget)
	dir := filepath.Join(e.cfg.StateDir, e.cfg.AppID, e.cfg.ReplicaID)
	var err error
	if e.db, err = rocks.Open(dir, mem); err != nil {
		return err
	}
	if err := e.planRestore(ctx); err != nil {
		return err
	}
	storePartitions := 0
	for _, s := range e.prog.Stores {
		storePartitions += int(e.parts[s.SubTopology])
	}
	// The typed caches share their part of the budget; an entry is costed at
	// 128 bytes (key, value, map and bookkeeping), a deliberate overestimate for
	// small aggregates.
	cacheEntries := 0
	if storePartitions > 0 {
		cacheEntries = max(1000, int(typedBytes/128)/storePartitions)
	}
	for _, st := range e.prog.SubTopologies {
		for p := int32(0); p < e.parts[st.ID]; p++ {
			k := taskKey{st.ID, p}
			t := &task{key: k}
			backends := make([]state.Backend, len(st.Stores))
			for i, si := range st.Stores {
				spec := e.prog.Stores[si]
				sp := &storePartition{spec: spec, partition: p, changelog: e.topics[spec.Changelog].name}
				if spec.Persistent {
					s, err := e.db.Store(spec.Name, p)
					if err != nil {
						return err
					}
					sp.raw = s
				} else {
					sp.raw = state.NewMemoryBackend()
				}
				t.stores = append(t.stores, sp)
				changelog, partition := sp.changelog, p
				backends[i] = &state.Logged{Backend: sp.raw, Log: func(key, value []byte) {
					e.produce(changelog, partition, key, value, nil)
				}}
			}
			t.t = st.NewTask(runtime.TaskContext{Partition: p, Out: e, Stores: backends, CacheEntries: cacheEntries})
			e.tasks[k] = t
		}
		for i, src := range st.Sources {
			for _, id := range src.Topics {
				name := e.topics[id].name
				e.routes[name] = append(e.routes[name], route{subTopology: st.ID, source: i})
			}
		}
	}
	e.log.Info("state opened", "dir", dir, "tasks", len(e.tasks), "store_partitions", storePartitions,
		"block_cache_bytes", mem.BlockCache, "write_buffer_bytes", mem.WriteBuffers, "cache_entries_per_store", cacheEntries)
	return nil
}

// startConsuming assigns every input partition directly, from the committed
// offsets of the application's group, or from the start.
func (e *Engine) startConsuming(ctx context.Context) error {
	committed, err := e.adm.FetchOffsets(ctx, e.cfg.AppID)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil // a new application: nothing committed yet
	}
	if err != nil {
		return fmt.Errorf("fetch committed offsets: %w", err)
	}
	assign := map[string]map[int32]kgo.Offset{}
	for name := range e.routes {
		t := e.topicByName(name)
		assign[name] = map[int32]kgo.Offset{}
		for p := int32(0); p < t.partitions; p++ {
			if o, ok := committed.Lookup(name, p); ok && o.Err == nil && o.At >= 0 {
				assign[name][p] = kgo.NewOffset().At(o.At)
			} else {
				assign[name][p] = kgo.NewOffset().AtStart()
			}
		}
	}
	e.consumer, err = kgo.NewClient(
		kgo.SeedBrokers(e.cfg.Brokers...),
		kgo.ConsumePartitions(assign),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.WithLogger(kgoLogger{e.log}),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	e.log.Info("consuming", "topics", len(assign))
	return nil
}

func (e *Engine) topicByName(name string) *topicInfo {
	for _, t := range e.topics {
		if t.name == name {
			return t
		}
	}
	return nil
}

// loop polls, processes and commits until ctx ends or processing fails.
func (e *Engine) loop(ctx context.Context) error {
	lastCommit := time.Now()
	lastFetchErr := time.Time{}
	for {
		// Poll no longer than until the next commit is due, so that an idle
		// application still commits what it processed last.
		pollCtx, cancel := context.WithTimeout(ctx, max(e.cfg.CommitInterval-time.Since(lastCommit), time.Millisecond))
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
		fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
			if fatal == nil && len(ftp.Records) > 0 {
				fatal = e.processPartition(ftp)
			}
		})
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
		if time.Since(lastCommit) >= e.cfg.CommitInterval {
			if err := e.commit(ctx); err != nil {
				if ctx.Err() != nil {
					break // stopping (SIGTERM) mid-commit: the final commit below does it
				}
				return err
			}
			lastCommit = time.Now()
		}
	}
	// Graceful stop: what was processed is flushed and committed.
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.commit(stop); err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	e.log.Info("stopped", "processed", e.processed, "skipped", e.skipped, "dead_lettered", e.deadLettered)
	return nil
}

// processPartition runs one fetched partition's records through every source
// reading the topic, and advances the position to commit.
func (e *Engine) processPartition(ftp kgo.FetchTopicPartition) error {
	e.batch = e.batch[:0]
	for _, r := range ftp.Records {
		e.batch = append(e.batch, runtime.Record{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value,
		})
	}
	next := e.batch[len(e.batch)-1].Offset + 1
	for _, rt := range e.routes[ftp.Topic] {
		t := e.tasks[taskKey{rt.subTopology, ftp.Partition}]
		if t == nil {
			return fmt.Errorf("topic %s partition %d: no task reads it (does the topic have more partitions than at start?)", ftp.Topic, ftp.Partition)
		}
		if failedAt, err := e.process(t, rt.source, e.batch); err != nil {
			next = min(next, failedAt)
			e.setPosition(ftp.Topic, ftp.Partition, next)
			return err
		}
	}
	e.processed += int64(len(e.batch))
	e.setPosition(ftp.Topic, ftp.Partition, next)
	return nil
}

func (e *Engine) setPosition(topic string, p int32, next int64) {
	m := e.positions[topic]
	if m == nil {
		m = map[int32]int64{}
		e.positions[topic] = m
	}
	m[p] = next
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

// commit makes everything processed so far durable, in the order at-least-once
// needs: state to RocksDB and changelogs, every produce acknowledged, changelog
// offsets recorded locally, and only then input offsets committed.
func (e *Engine) commit(ctx context.Context) error {
	for _, t := range e.tasks {
		if err := t.t.Flush(); err != nil {
			return fmt.Errorf("flush sub-topology %d partition %d: %w", t.key.subTopology, t.key.partition, err)
		}
	}
	if err := e.producer.Flush(ctx); err != nil {
		return fmt.Errorf("wait for produce acks: %w", err)
	}
	e.mu.Lock()
	perr := e.produceErr
	offsets := map[rocks.StorePartition]int64{}
	for _, t := range e.tasks {
		for _, sp := range t.stores {
			if !sp.spec.Persistent {
				continue
			}
			if o, ok := e.changelogs[topicPartition{sp.changelog, sp.partition}]; ok {
				offsets[rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = o
			}
		}
	}
	e.mu.Unlock()
	if perr != nil {
		return perr // nothing is committed past records whose output was lost
	}
	if len(offsets) > 0 {
		if err := e.db.SetChangelogOffsets(offsets); err != nil {
			return fmt.Errorf("record changelog offsets: %w", err)
		}
	}
	var commit kadm.Offsets
	for topic, ps := range e.positions {
		for p, at := range ps {
			commit.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
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
