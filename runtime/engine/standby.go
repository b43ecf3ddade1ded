package engine

import (
	"context"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state/rocks"
)

// Standby replicas (coordinator.Config.StandbyReplicas): this replica keeps
// a warm copy of tasks other replicas own, so that one of them starting here
// (its owner died) restores from local state and replays only a short tail.
//
//	AssignmentChanged.Standby ─▶ syncStandbys ─▶ a goroutine per standby, off the loop:
//	  state opened where the task's would be (local, else a snapshot, else empty: openTaskState)
//	  ─▶ a consumer of its own tails the changelogs (read_committed under exactly-once)
//	  ─▶ applyChangelog, the changelog offsets persisted every second ─▶ lag ─▶ SetStandbyLags
//	the task assigned here ─▶ promoteStandbys: tailer stopped, offsets persisted, the open
//	  instance handed to startTask (its state holds committed changelog records only),
//	  which replays the tail from those offsets; if the changelog no longer covers
//	  them, the ordinary restore path runs instead
//	the standby removed ─▶ instance closed with a clean-shutdown marker where local state
//	  needs one (marker.go); the local directory stays

// standbyTask is one standby kept here.
type standbyTask struct {
	id     coordinator.TaskID
	cancel context.CancelFunc
	done   chan struct{}
	lag    atomic.Int64 // changelog records behind the end; -1 until known
	source atomic.Value // string: where its state came from
	// handOver asks the stopping goroutine to leave its instance open in db
	// (offsets persisted) for the task starting here; read after done.
	handOver atomic.Bool
	db       *rocks.DB
}

// standbyPersistEvery is how often a standby records its changelog offsets
// in its RocksDB instance.
const standbyPersistEvery = time.Second

// stateful reports whether task k has persistent stores, the tasks that
// have standbys (in-memory stores are replayed whole at every start anyway).
func (e *Engine) stateful(k coordinator.TaskID) bool {
	for _, sp := range e.storePartitions(k) {
		if sp.Persistent {
			return true
		}
	}
	return false
}

// syncStandbys makes the standbys kept here those the coordinator assigns,
// less any task that runs here.
func (e *Engine) syncStandbys(assigned, mine []coordinator.TaskID) {
	want := map[coordinator.TaskID]bool{}
	for _, k := range assigned {
		if e.tasks[k] == nil && e.stateful(k) {
			want[k] = true
		}
	}
	var stop []coordinator.TaskID
	e.sbMu.Lock()
	for k := range e.standbys {
		if !want[k] {
			stop = append(stop, k)
		}
	}
	e.sbMu.Unlock()
	e.stopStandbys(stop, "no longer a standby here")
	for _, k := range stop {
		if slices.Contains(mine, k) {
			e.promoted[k] = true // to start here once the lease allows
		}
	}
	for k := range want {
		e.sbMu.Lock()
		_, have := e.standbys[k]
		e.sbMu.Unlock()
		if !have {
			e.startStandby(k)
		}
	}
}

// promoteStandbys stops the standbys of tasks about to start here, handing
// their open instances to startTask (openTaskState takes them from e.warm:
// no close, which flushes the memtables, and no reopen); it records them
// for the restore's source.
func (e *Engine) promoteStandbys(start []coordinator.TaskID) {
	var stop []*standbyTask
	e.sbMu.Lock()
	for _, k := range start {
		if s, ok := e.standbys[k]; ok {
			s.handOver.Store(true)
			stop = append(stop, s)
		}
	}
	e.sbMu.Unlock()
	for _, s := range stop {
		e.stopStandbys([]coordinator.TaskID{s.id}, "promoted: the task starts here")
		if s.db != nil {
			e.warm[s.id] = s.db
		}
		e.promoted[s.id] = true
	}
}

// takeWarm gives startTask the instance a promoted standby left open, if
// the changelogs still cover its offsets (else it is closed and the usual
// sources are tried: the standby's directory, a snapshot, the changelog).
// Its state holds committed changelog records only, so under exactly-once
// too it needs no clean-shutdown marker.
func (e *Engine) takeWarm(t *task, bounds map[topicPartition]bounds, from map[topicPartition]int64) (bool, error) {
	db := e.warm[t.id]
	if db == nil {
		return false, nil
	}
	delete(e.warm, t.id)
	why, err := e.fits(t.id, bounds, from, func(sp runtime.StoreSpec, _ topicPartition) (int64, bool, error) {
		return db.ChangelogOffset(sp.Name, t.id.Partition)
	})
	if err == nil && why == "" {
		t.db = db
		return true, nil
	}
	e.closeWarm(t.id, db)
	if err == nil {
		e.log.Warn("standby state not usable", "task", t.id, "why", why)
	}
	return false, err
}

// closeWarm closes a handed-over instance that will not be used, with a
// marker where one is needed, as a stopped standby does.
func (e *Engine) closeWarm(k coordinator.TaskID, db *rocks.DB) {
	t := &task{id: k, db: db}
	for _, spec := range e.storePartitions(k) {
		if spec.Persistent {
			t.stores = append(t.stores, &storePartition{spec: spec, partition: k.Partition, changelog: e.topics[spec.Changelog].name})
		}
	}
	e.closeStandbyState(t)
}

// closeWarmExcept closes the handed-over instances of tasks not in keep.
func (e *Engine) closeWarmExcept(keep map[coordinator.TaskID]bool) {
	for k, db := range e.warm {
		if !keep[k] {
			delete(e.warm, k)
			e.closeWarm(k, db)
		}
	}
}

func (e *Engine) startStandby(k coordinator.TaskID) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &standbyTask{id: k, cancel: cancel, done: make(chan struct{})}
	s.lag.Store(-1)
	s.source.Store("")
	e.sbMu.Lock()
	e.standbys[k] = s
	e.sbMu.Unlock()
	go func() {
		defer close(s.done)
		e.runStandby(ctx, s)
	}()
}

// stopStandbys ends the given standbys and waits until each has closed its
// state.
func (e *Engine) stopStandbys(ks []coordinator.TaskID, why string) {
	var stopping []*standbyTask
	e.sbMu.Lock()
	for _, k := range ks {
		if s := e.standbys[k]; s != nil {
			s.cancel()
			stopping = append(stopping, s)
			delete(e.standbys, k)
		}
	}
	e.sbMu.Unlock()
	for _, s := range stopping {
		<-s.done
		e.metrics.standbyLag.DeleteLabelValues(s.id.String())
		e.log.Info("standby stopped", "task", s.id, "why", why, "lag", s.lag.Load())
	}
	if len(stopping) > 0 {
		e.reportStandbyLags()
	}
}

// stopAllStandbys ends every standby (shutdown).
func (e *Engine) stopAllStandbys() {
	e.sbMu.Lock()
	ks := slices.Collect(func(yield func(coordinator.TaskID) bool) {
		for k := range e.standbys {
			if !yield(k) {
				return
			}
		}
	})
	e.sbMu.Unlock()
	e.stopStandbys(ks, "shutting down")
}

// reportStandbyLags hands the known lags to the coordinator (heartbeats take
// them to the leader).
func (e *Engine) reportStandbyLags() {
	lags := map[string]int64{}
	e.sbMu.Lock()
	for k, s := range e.standbys {
		if l := s.lag.Load(); l >= 0 {
			lags[k.String()] = l
		}
	}
	e.sbMu.Unlock()
	e.node.SetStandbyLags(lags)
}

// standbyView lists the standbys kept here for /status.
func (e *Engine) standbyView() []StandbyStatus {
	e.sbMu.Lock()
	defer e.sbMu.Unlock()
	out := make([]StandbyStatus, 0, len(e.standbys))
	for k, s := range e.standbys {
		out = append(out, StandbyStatus{Task: k.String(), Lag: s.lag.Load(), StateFrom: s.source.Load().(string)})
	}
	slices.SortFunc(out, func(a, b StandbyStatus) int { return compareStrings(a.Task, b.Task) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// StandbyStatus is one standby in /status.
type StandbyStatus struct {
	Task string `json:"task"`
	// Lag is the changelog records it is behind (-1 while its state opens).
	Lag       int64  `json:"lag"`
	StateFrom string `json:"state_from"`
}

// runStandby opens the standby's state and tails its changelogs until ctx
// ends; a failure is logged and retried (a standby is an optimisation:
// the task restores without it).
func (e *Engine) runStandby(ctx context.Context, s *standbyTask) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := e.tailStandby(ctx, s)
		if err == nil || ctx.Err() != nil {
			return
		}
		e.log.Warn("standby failed; retrying", "task", s.id, "err", err)
		s.lag.Store(-1)
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
		}
	}
}

// standbyState is a standby's open state and where it is in its changelogs.
type standbyState struct {
	t       *task
	targets map[topicPartition]*storePartition
	at      map[topicPartition]int64 // the next offset to apply
	ends    map[topicPartition]int64 // the end last seen (the last stable offset under exactly-once)
}

func (st *standbyState) lag() int64 {
	var lag int64
	for tp, end := range st.ends {
		lag += max(end-st.at[tp], 0)
	}
	return lag
}

// openStandby opens a standby's state as a starting task's would be opened
// (openTaskState) and finds where its changelogs resume.
func (e *Engine) openStandby(ctx context.Context, s *standbyTask) (*standbyState, error) {
	k := s.id
	bounds, err := e.changelogBounds(ctx, []coordinator.TaskID{k})
	if err != nil {
		return nil, err
	}
	committed, err := e.committedOffsets(ctx)
	if err != nil {
		return nil, err
	}
	st := &standbyState{t: &task{id: k}, targets: map[topicPartition]*storePartition{},
		at: map[topicPartition]int64{}, ends: map[topicPartition]int64{}}
	src, err := e.openTaskState(ctx, st.t, bounds, committed, st.at)
	if err != nil {
		return nil, err
	}
	s.source.Store(src)
	for _, spec := range e.storePartitions(k) {
		if !spec.Persistent {
			continue
		}
		raw, err := st.t.db.Store(spec.Name, k.Partition)
		if err != nil {
			st.t.db.Close()
			return nil, err
		}
		sp := &storePartition{spec: spec, partition: k.Partition, changelog: e.topics[spec.Changelog].name, raw: raw}
		tp := topicPartition{sp.changelog, k.Partition}
		if _, ok := st.at[tp]; !ok {
			st.at[tp] = bounds[tp].start
		}
		st.t.stores = append(st.t.stores, sp)
		st.targets[tp] = sp
		st.ends[tp] = bounds[tp].end
	}
	return st, nil
}

// tailStandby is one attempt of runStandby: it opens the state, then
// applies the changelogs as they grow until ctx ends.
func (e *Engine) tailStandby(ctx context.Context, s *standbyTask) error {
	st, err := e.openStandby(ctx, s)
	if err != nil {
		return err
	}
	t, k := st.t, s.id
	closed := false
	defer func() {
		if !closed {
			t.db.Close()
		}
	}()
	e.setStandbyLag(s, st.lag())
	e.log.Info("standby started", "task", k, "state_from", s.source.Load(), "lag", st.lag())
	plan := map[string]map[int32]kgo.Offset{}
	for tp := range st.targets {
		if plan[tp.topic] == nil {
			plan[tp.topic] = map[int32]kgo.Offset{}
		}
		plan[tp.topic][tp.partition] = kgo.NewOffset().At(st.at[tp])
	}
	opts := []kgo.Opt{kgo.ConsumePartitions(plan), kgo.FetchMaxWait(200 * time.Millisecond)}
	if e.cfg.ExactlyOnce {
		// Committed records only, and the markers (so that the offsets move
		// past them): the state then holds committed data only.
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	}
	cl, err := kgo.NewClient(e.clientOpts(opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	persisted := time.Now()
	dirty := false
	for ctx.Err() == nil {
		applied, err := e.applyStandbyFetches(st, cl.PollFetches(ctx))
		if err != nil {
			return err
		}
		dirty = dirty || applied
		e.setStandbyLag(s, st.lag())
		if dirty && time.Since(persisted) >= standbyPersistEvery {
			if err := e.persistStandby(t, st.at); err != nil {
				return err
			}
			persisted, dirty = time.Now(), false
		}
	}
	// Stopped: the state holds exactly the changelog up to at.
	if err := e.persistStandby(t, st.at); err != nil {
		return err
	}
	closed = true
	if s.handOver.Load() {
		s.db = t.db // read by promoteStandbys once done is closed
		return nil
	}
	e.closeStandbyState(t)
	return nil
}

// applyStandbyFetches applies fetched changelog records to the standby's
// stores and notes the ends; it says whether any offset moved.
func (e *Engine) applyStandbyFetches(st *standbyState, fetches kgo.Fetches) (bool, error) {
	moved := false
	var applyErr error
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		tp := topicPartition{ftp.Topic, ftp.Partition}
		sp, ok := st.targets[tp]
		if !ok || applyErr != nil || ftp.Err != nil {
			return
		}
		next := st.at[tp]
		_, applyErr = applyChangelog(sp, ftp.Records, math.MaxInt64, &next)
		moved = moved || next != st.at[tp]
		st.at[tp] = next
		end := ftp.HighWatermark
		if e.cfg.ExactlyOnce {
			end = ftp.LastStableOffset
		}
		if end > 0 {
			st.ends[tp] = end
		}
	})
	return moved, applyErr
}

// setStandbyLag publishes a standby's lag when it changed: the metric and
// the coordinator's next heartbeat.
func (e *Engine) setStandbyLag(s *standbyTask, lag int64) {
	if s.lag.Swap(lag) != lag {
		e.metrics.standbyLag.WithLabelValues(s.id.String()).Set(float64(lag))
		e.reportStandbyLags()
	}
}

// persistStandby records the changelog offsets the standby's stores hold.
func (e *Engine) persistStandby(t *task, at map[topicPartition]int64) error {
	offsets := map[rocks.StorePartition]int64{}
	for _, sp := range t.stores {
		offsets[rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = at[topicPartition{sp.changelog, sp.partition}]
	}
	return t.db.SetChangelogOffsets(offsets)
}

// closeStandbyState closes a standby's instance, with a clean-shutdown marker
// where local state needs one to be trusted (marker.go): a standby applies
// committed changelog records only (read_committed under exactly-once, and
// windows expire only through their changelog here), so its state is the
// committed state at its offsets.
func (e *Engine) closeStandbyState(t *task) {
	e.closeWithMarker(t, func() error {
		err := t.db.Close()
		if err != nil {
			e.log.Warn("close standby state", "task", t.id, "err", err)
		}
		return err
	}, "standby: no clean-shutdown marker: its state will not be used")
}
