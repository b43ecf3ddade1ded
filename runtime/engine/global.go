package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/rocks"
)

// Global tables (runtime.GlobalSpec): every replica keeps a whole copy of each.
//
//	start-up, after the state opens and before the replica joins the group (so before any task):
//	  open the store: RocksDB instance global-<name> in the state dir (data and, in its meta
//	  column family, the next offset of every topic partition: the local checkpoint), or memory
//	  ─▶ bounds of every partition of the topic (end: the last stable offset under exactly-once)
//	  ─▶ one consumer from the checkpoint's offsets (a RocksDB store whose checkpoint the topic
//	     still covers), else from the start ─▶ apply records (nil value: delete) until every
//	     partition reached its end ─▶ record the offsets ─▶ log what was restored
//	then, in a goroutine, the same consumer keeps applying new records, recording the offsets
//	every commit interval and at the stop.
//	tasks ─▶ TaskContext.Globals: a read-only view each (state.Shared), so the goroutine's
//	writes and the loop's lookups never share a buffer.
//
// The topic is the table's changelog: nothing else is written. Its partitions
// are in no sub-topology, so the coordinator never assigns them.
type globalTables struct {
	tables []*globalTable
	cl     *kgo.Client
	stop   context.CancelFunc
	done   chan struct{}
}

// globalTable is one global table on this replica.
type globalTable struct {
	spec       runtime.GlobalSpec
	topic      string
	partitions int32
	shared     *state.Shared
	mem        *state.MemoryBackend // nil for RocksDB
	db         *rocks.DB            // nil in memory
	batch      *rocks.Batch         // RocksDB: each fetched batch is written at once

	mu       sync.Mutex
	next     map[int32]int64 // next offset to apply, per partition
	ends     map[int32]int64 // the latest known end of each partition, for the lag
	applied  int64           // records applied since the process started
	restored int64           // of which during start-up
	from     string          // "checkpoint" or "start"
	took     time.Duration   // the start-up restore
	failed   error           // a write that failed: the table stopped following its topic
}

// startGlobals restores every global table and starts following their topics.
func (e *Engine) startGlobals(ctx context.Context) error {
	if len(e.prog.Globals) == 0 || e.globals != nil {
		return nil
	}
	g := &globalTables{}
	ok := false
	defer func() {
		if !ok {
			g.close(e) // a retried start-up opens everything again
		}
	}()
	plan := map[string]map[int32]kgo.Offset{}
	for _, spec := range e.prog.Globals {
		info := e.topics[spec.Topic]
		gt := &globalTable{spec: spec, topic: info.name, partitions: info.partitions, next: map[int32]int64{}, ends: map[int32]int64{}}
		g.tables = append(g.tables, gt)
		b, err := e.globalBounds(ctx, gt)
		if err != nil {
			return err
		}
		if err := e.openGlobal(gt, b); err != nil {
			return fmt.Errorf("global table %s: %w", spec.Name, err)
		}
		plan[gt.topic] = map[int32]kgo.Offset{}
		for p := range gt.partitions {
			gt.ends[p] = b[p].end
			plan[gt.topic][p] = kgo.NewOffset().At(gt.next[p])
		}
	}
	opts := []kgo.Opt{kgo.ConsumePartitions(plan), kgo.FetchMaxWait(200 * time.Millisecond), kgo.KeepControlRecords()}
	if e.cfg.ExactlyOnce {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	var err error
	if g.cl, err = kgo.NewClient(e.clientOpts(opts...)...); err != nil {
		return err
	}
	if err := e.restoreGlobals(ctx, g); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	g.stop, g.done = stop, make(chan struct{})
	go e.followGlobals(runCtx, g)
	e.globals = g
	e.registerGlobalMetrics()
	ok = true
	return nil
}

// globalBounds lists the start and end offsets of every partition of a global
// table's topic, retrying while a new topic is not yet visible.
func (e *Engine) globalBounds(ctx context.Context, gt *globalTable) (map[int32]bounds, error) {
	for attempt := 0; ; attempt++ {
		starts, err := e.adm.ListStartOffsets(ctx, gt.topic)
		var ends kadm.ListedOffsets
		if err == nil && e.cfg.ExactlyOnce {
			ends, err = e.adm.ListCommittedOffsets(ctx, gt.topic) // the last stable offset
		} else if err == nil {
			ends, err = e.adm.ListEndOffsets(ctx, gt.topic)
		}
		out := map[int32]bounds{}
		for p := int32(0); err == nil && p < gt.partitions; p++ {
			s, ok1 := starts.Lookup(gt.topic, p)
			en, ok2 := ends.Lookup(gt.topic, p)
			if !ok1 || !ok2 || s.Err != nil || en.Err != nil {
				err = fmt.Errorf("offsets of %s/%d are unavailable", gt.topic, p)
				break
			}
			out[p] = bounds{s.Offset, en.Offset}
		}
		if err == nil {
			return out, nil
		}
		if attempt == 50 || ctx.Err() != nil {
			return nil, fmt.Errorf("global table %s: list offsets of %s: %w", gt.spec.Name, gt.topic, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// openGlobal opens a global table's store and sets where reading starts: a
// RocksDB store's checkpoint, when it has an offset for every partition
// within the topic's bounds; else the start of the topic, on an empty store.
func (e *Engine) openGlobal(gt *globalTable, b map[int32]bounds) error {
	for p := range gt.partitions {
		gt.next[p] = b[p].start
	}
	gt.from = "start"
	if !gt.spec.Persistent {
		gt.mem = state.NewMemoryBackend()
		gt.shared = state.NewShared(gt.mem)
		return nil
	}
	var err error
	if gt.db, err = e.pool.Open("global-" + gt.spec.Name); err != nil {
		return err
	}
	checkpoint, why := map[int32]int64{}, ""
	for p := range gt.partitions {
		off, ok, err := gt.db.ChangelogOffset(gt.spec.Name, p)
		switch {
		case err != nil:
			return err
		case !ok:
			why = fmt.Sprintf("no offset recorded for partition %d", p)
		case off < b[p].start || off > b[p].end:
			why = fmt.Sprintf("partition %d: recorded offset %d is outside the topic's offsets %d to %d", p, off, b[p].start, b[p].end)
		}
		if why != "" {
			break
		}
		checkpoint[p] = off
	}
	if why == "" {
		gt.next, gt.from = checkpoint, "checkpoint"
	} else if len(gt.db.Stores()) > 0 {
		e.log.Info("global table: local state not used; reading the topic from the start", "table", gt.spec.Name, "topic", gt.topic, "reason", why)
		if err := gt.db.DropStore(gt.spec.Name, 0); err != nil {
			return err
		}
	}
	store, err := gt.db.Store(gt.spec.Name, 0)
	if err != nil {
		return err
	}
	gt.shared, gt.batch = state.NewShared(store), store.NewBatch()
	return nil
}

// restoreGlobals reads every global table to the end its partitions had when
// start-up listed them, logging progress every 5 s.
func (e *Engine) restoreGlobals(ctx context.Context, g *globalTables) error {
	begin, lastLog := time.Now(), time.Now()
	// The ends listed at start-up: records that arrive meanwhile are applied
	// too, but not waited for.
	targets := map[*globalTable]map[int32]int64{}
	for _, gt := range g.tables {
		targets[gt] = maps.Clone(gt.ends)
	}
	for {
		remaining := int64(0)
		for _, gt := range g.tables {
			gt.mu.Lock()
			for p, end := range targets[gt] {
				remaining += max(end-gt.next[p], 0)
			}
			gt.mu.Unlock()
		}
		if remaining == 0 {
			break
		}
		if time.Since(lastLog) > 5*time.Second {
			e.log.Info("restoring global tables", "records_remaining", remaining, "elapsed", time.Since(begin).Round(time.Millisecond))
			lastLog = time.Now()
		}
		if err := e.pollGlobals(ctx, g); err != nil {
			return err
		}
	}
	took := time.Since(begin)
	for _, gt := range g.tables {
		gt.mu.Lock()
		gt.restored, gt.took = gt.applied, took
		gt.mu.Unlock()
		if err := gt.checkpoint(); err != nil {
			return fmt.Errorf("global table %s: %w", gt.spec.Name, err)
		}
		e.log.Info("global table restored", "table", gt.spec.Name, "topic", gt.topic, "from", gt.from,
			"restored_records", gt.restored, "rows", gt.rows(), "seconds", took.Seconds())
	}
	return nil
}

// followGlobals applies new records of the global topics until stopped,
// recording the offsets every commit interval.
func (e *Engine) followGlobals(ctx context.Context, g *globalTables) {
	defer close(g.done)
	last := time.Now()
	for ctx.Err() == nil {
		if err := e.pollGlobals(ctx, g); err != nil {
			if ctx.Err() == nil {
				e.log.Error("global tables stopped following their topics", "err", err)
			}
			return
		}
		if time.Since(last) >= e.cfg.CommitInterval {
			last = time.Now()
			for _, gt := range g.tables {
				if err := gt.checkpoint(); err != nil {
					e.log.Warn("global table: cannot record offsets", "table", gt.spec.Name, "err", err)
				}
			}
		}
	}
}

// pollGlobals fetches once and applies what came. A write that fails stops
// the table it was for (reported in /status and logged by the caller).
func (e *Engine) pollGlobals(ctx context.Context, g *globalTables) error {
	fetches := g.cl.PollFetches(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.Canceled) {
			e.log.Warn("global table fetch failed; retrying", "topic", topic, "partition", p, "err", err)
		}
	})
	var failed error
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		for _, gt := range g.tables {
			if gt.topic == ftp.Topic {
				if err := gt.apply(ftp, e.cfg.ExactlyOnce); err != nil && failed == nil {
					failed = err
				}
			}
		}
	})
	return failed
}

// apply writes the records of one fetched partition to the table: in one
// RocksDB write batch, or one by one in memory. The offsets move only once the
// records are written.
func (gt *globalTable) apply(ftp kgo.FetchTopicPartition, readCommitted bool) error {
	gt.mu.Lock()
	defer gt.mu.Unlock()
	if gt.failed != nil {
		return nil
	}
	p := ftp.Partition
	next, first, applied := gt.next[p], int64(-1), int64(0)
	for _, r := range ftp.Records {
		if r.Offset < next {
			continue
		}
		if first < 0 {
			first = r.Offset
		}
		if !r.Attrs.IsControl() { // transaction markers take an offset and hold no row
			if err := gt.write(r.Key, r.Value); err != nil {
				gt.failed = fmt.Errorf("global table %s: %s partition %d offset %d: %w", gt.spec.Name, ftp.Topic, p, r.Offset, err)
				return gt.failed
			}
			applied++
		}
		next = r.Offset + 1
	}
	if gt.batch != nil && gt.batch.Len() > 0 {
		if err := gt.shared.Update(gt.batch.Write); err != nil {
			gt.failed = fmt.Errorf("global table %s: %s partition %d offsets %d to %d: %w", gt.spec.Name, ftp.Topic, p, first, next-1, err)
			return gt.failed
		}
	}
	gt.next[p], gt.applied = next, gt.applied+applied
	end := ftp.HighWatermark
	if readCommitted {
		end = ftp.LastStableOffset
	}
	if ftp.Err == nil && end >= 0 {
		gt.ends[p] = max(gt.ends[p], end)
	}
	return nil
}

// write applies one record (nil value: a delete): into the batch, or to memory.
func (gt *globalTable) write(key, value []byte) error {
	switch {
	case gt.batch != nil && value == nil:
		gt.batch.Delete(key)
	case gt.batch != nil:
		gt.batch.Put(key, value)
	case value == nil:
		return gt.shared.Delete(key)
	default:
		return gt.shared.Put(key, value)
	}
	return nil
}

// checkpoint records the next offsets of a RocksDB table in its instance's
// meta column family. The writes they cover went first through the same
// write-ahead log, so a crash never recovers an offset without its rows.
func (gt *globalTable) checkpoint() error {
	if gt.db == nil {
		return nil
	}
	gt.mu.Lock()
	if gt.failed != nil {
		gt.mu.Unlock()
		return nil // the rows may be behind the offsets: keep the last good ones
	}
	offsets := make(map[rocks.StorePartition]int64, len(gt.next))
	for p, off := range gt.next {
		offsets[rocks.StorePartition{Store: gt.spec.Name, Partition: p}] = off
	}
	gt.mu.Unlock()
	return gt.db.SetChangelogOffsets(offsets)
}

// rows is the number of rows: exact in memory, RocksDB's estimate otherwise.
func (gt *globalTable) rows() int64 {
	if gt.mem != nil {
		var n int64
		gt.shared.Locked(func(state.Backend) { n = int64(gt.mem.Len()) })
		return n
	}
	sp := rocks.StorePartition{Store: gt.spec.Name, Partition: 0}
	n, _ := gt.db.IntProperty("rocksdb.estimate-num-keys", &sp)
	return int64(n)
}

// lag is how many offsets the table is behind its topic's known ends.
func (gt *globalTable) lag() int64 {
	gt.mu.Lock()
	defer gt.mu.Unlock()
	var lag int64
	for p, end := range gt.ends {
		lag += max(end-gt.next[p], 0)
	}
	return lag
}

// globalViews are the read-only views of the global tables a new task gets.
func (e *Engine) globalViews() []state.Backend {
	if e.globals == nil {
		return nil
	}
	out := make([]state.Backend, len(e.globals.tables))
	for i, gt := range e.globals.tables {
		out[i] = gt.shared.View()
	}
	return out
}

// closeGlobals stops following the global topics, records the offsets and
// closes the stores.
func (e *Engine) closeGlobals() {
	if e.globals != nil {
		e.globals.close(e)
		e.globals = nil
	}
}

func (g *globalTables) close(e *Engine) {
	if g.stop != nil {
		g.stop()
		<-g.done
	}
	if g.cl != nil {
		g.cl.Close()
	}
	for _, gt := range g.tables {
		if gt.db == nil {
			continue
		}
		if gt.batch != nil {
			gt.batch.Close()
		}
		if gt.shared != nil && gt.failed == nil {
			if err := gt.checkpoint(); err != nil {
				e.log.Warn("global table: cannot record offsets", "table", gt.spec.Name, "err", err)
			}
		}
		gt.db.Close()
	}
}
