// Package discovery lets the replicas of an application find each other
// through the Kafka cluster they already share, so that starting another
// instance with the same --app-id is all it takes to scale out (--peers and
// --peers-dns stay for fixed deployments).
//
// How data flows:
//
//	replica ─Announce─▶ <app-id>-gofka-replicas (1 partition, compacted) ◀─Read── replica
//	          {addr, id, status addr, first, at}   key: replica id
//	          again every FailureTimeout/2; a tombstone on a clean leave
//
// The coordinator (coordinator.Discovery) uses it at start-up and whenever it
// has no leader:
//
//  1. Announce: produce this replica's record and learn its offset O. The
//     replica's rank is O (later announcements carry it as "first").
//  2. Read the partition to its end. A record is live while it was written
//     less than 2×FailureTimeout ago and is not withdrawn.
//  3. No live replica ranked before this one: bootstrap a single-voter
//     group. Otherwise join through the live addresses, reading again while
//     the join is retried (a crashed process's record goes stale).
//
// Safety of the bootstrap rule. One partition is totally ordered, so of
// replicas that start at the same moment exactly one has the lowest rank;
// every other one sees it live (it announced before them) and joins it. A
// replica that starts later sees the running ones live and joins. A replica
// joins only an earlier one it can reach; if none answers (they all
// crashed), it waits until their announcements are stale and then bootstraps
// on its own Raft state.
//
// Two groups for one application id can only arise when a replica's
// announcement goes stale while its process still exists: paused (SIGSTOP,
// a long GC or VM freeze) or cut off from the brokers for 2×FailureTimeout.
// The others may then recover a group without it (coordinator/recover.go).
// That still never lets two processes run one task: a replica that has not
// announced for FailureTimeout is no longer "standing" (Registry.Standing);
// a leader that is not standing acknowledges no heartbeat, so it renews no
// lease, and every lease it granted ran out (2/3 FailureTimeout after its
// last acknowledged heartbeat) before the others deem it gone. When it runs
// again it fences itself, announces anew with a new rank, drops its Raft
// state and joins the group it finds. Liveness compares the announcer's
// clock with the reader's: clocks must agree to well within a failure
// timeout (NTP).
package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
)

// Topic is the discovery topic of an application.
func Topic(appID string) string { return appID + "-gofka-replicas" }

// Config configures a Registry.
type Config struct {
	Brokers []string
	// ClientOpts are extra franz-go options (TLS, SASL).
	ClientOpts []kgo.Opt
	AppID      string
	// FailureTimeout is the coordinator's: announcements are repeated every
	// half of it and go stale after twice it.
	FailureTimeout time.Duration
	Logger         *slog.Logger
}

// record is one announcement, the value of a record keyed by the replica id.
type record struct {
	coordinator.Announcement
	// First is the offset of this process's first announcement, its rank
	// (-1 in that first one: its own offset).
	First int64 `json:"first"`
	// At is when it was written, by the announcer's clock.
	At time.Time `json:"at"`
}

// Registry is one replica's view of the discovery topic. It implements
// coordinator.Discovery.
type Registry struct {
	cfg   Config
	topic string
	cl    *kgo.Client
	adm   *kadm.Client
	log   *slog.Logger

	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	self    *record           // this process's announcement (nil before Announce)
	latest  map[string]record // by key, others' latest (this process's own records left out)
	next    int64             // the next offset to read
	stopped bool
	ready   bool      // the topic exists and is being consumed
	lastOK  time.Time // when this process's last announcement was written
	broken  bool      // an announcement came too late since the last Announce
}

var _ coordinator.Discovery = (*Registry)(nil)

// New makes a registry; it contacts the brokers only in Announce, which
// creates the discovery topic if it is missing.
func New(cfg Config) (*Registry, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FailureTimeout <= 0 {
		cfg.FailureTimeout = coordinator.DefaultFailureTimeout
	}
	topic := Topic(cfg.AppID)
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("discovery: kafka client: %w", err)
	}
	return &Registry{cfg: cfg, topic: topic, cl: cl, adm: kadm.NewClient(cl), log: cfg.Logger,
		latest: map[string]record{}, stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// createTopic creates the topic unless it exists, and starts consuming it,
// once.
func (r *Registry) createTopic(ctx context.Context) error {
	r.mu.Lock()
	ready := r.ready
	r.mu.Unlock()
	if ready {
		return nil
	}
	compact := "compact"
	resp, err := r.adm.CreateTopics(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, r.topic)
	if err != nil {
		return fmt.Errorf("discovery: create topic %s: %w", r.topic, err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("discovery: create topic %s: %w", t.Topic, t.Err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ready {
		r.ready = true
		r.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{r.topic: {0: kgo.NewOffset().AtStart()}})
	}
	return nil
}

// Announce publishes self, then goes on publishing it every FailureTimeout/2
// in the background.
func (r *Registry) Announce(ctx context.Context, self coordinator.Announcement) error {
	if err := r.createTopic(ctx); err != nil {
		return err
	}
	rec := record{Announcement: self, First: -1}
	off, err := r.produce(ctx, self.ID, &rec)
	if err != nil {
		return err
	}
	rec.First = off
	r.mu.Lock()
	first := r.self == nil
	r.self = &rec
	r.lastOK = time.Now()
	r.broken = false
	r.mu.Unlock()
	r.log.Info("discovery: announced", "topic", r.topic, "addr", self.Addr, "rank", off)
	if first {
		go r.republish()
	}
	return nil
}

// Standing says whether the announcements have been kept up since the last
// Announce: none came more than FailureTimeout after the one before, and the
// last is not older than that.
func (r *Registry) Standing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.self != nil && !r.broken && time.Since(r.lastOK) <= r.cfg.FailureTimeout
}

func (r *Registry) republish() {
	defer close(r.done)
	tick := time.NewTicker(r.cfg.FailureTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		rec := *r.self
		if time.Since(r.lastOK) > r.cfg.FailureTimeout {
			r.broken = true // before announcing again: see Standing
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.FailureTimeout)
		if _, err := r.produce(ctx, rec.ID, &rec); err != nil {
			r.log.Warn("discovery: announce again", "err", err)
		} else {
			r.mu.Lock()
			r.lastOK = time.Now()
			r.mu.Unlock()
		}
		cancel()
	}
}

// produce writes rec (nil: a tombstone) under key and returns its offset.
func (r *Registry) produce(ctx context.Context, key string, rec *record) (int64, error) {
	kr := &kgo.Record{Topic: r.topic, Partition: 0, Key: []byte(key)}
	if rec != nil {
		rec.At = time.Now()
		v, err := json.Marshal(rec)
		if err != nil {
			return 0, err
		}
		kr.Value = v
	}
	for attempt := 1; ; attempt++ {
		res := r.cl.ProduceSync(ctx, kr)
		err := res.FirstErr()
		if err == nil {
			return res[0].Record.Offset, nil
		}
		// Right after the topic's creation the brokers may not know it yet,
		// for longer than the client's own few retries.
		if !errors.Is(err, kerr.UnknownTopicOrPartition) || ctx.Err() != nil {
			return 0, fmt.Errorf("discovery: write to %s: %w", r.topic, err)
		}
		r.log.Debug("discovery: topic not known yet; writing again", "topic", r.topic, "attempt", attempt)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("discovery: write to %s: %w", r.topic, err)
		case <-time.After(min(time.Duration(attempt)*50*time.Millisecond, time.Second)):
		}
	}
}

// Read reads the topic to its end and returns the live replicas.
func (r *Registry) Read(ctx context.Context) (coordinator.DiscoveryView, error) {
	if err := r.createTopic(ctx); err != nil {
		return coordinator.DiscoveryView{}, err
	}
	ends, err := r.adm.ListEndOffsets(ctx, r.topic)
	if err != nil {
		return coordinator.DiscoveryView{}, fmt.Errorf("discovery: end offset of %s: %w", r.topic, err)
	}
	end, ok := ends.Lookup(r.topic, 0)
	if !ok || end.Err != nil {
		return coordinator.DiscoveryView{}, fmt.Errorf("discovery: end offset of %s: %v", r.topic, end.Err)
	}
	for {
		r.mu.Lock()
		caught := r.next >= end.Offset
		r.mu.Unlock()
		if caught {
			break
		}
		fs := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return coordinator.DiscoveryView{}, fmt.Errorf("discovery: read %s: %w", r.topic, ctx.Err())
		}
		if fs.IsClientClosed() {
			return coordinator.DiscoveryView{}, errors.New("discovery: closed")
		}
		fs.EachRecord(r.add)
	}
	return r.view(time.Now()), nil
}

// add takes one record into the view; this process's own are left out.
func (r *Registry) add(kr *kgo.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = max(r.next, kr.Offset+1)
	key := string(kr.Key)
	if kr.Value == nil {
		delete(r.latest, key)
		return
	}
	var rec record
	if err := json.Unmarshal(kr.Value, &rec); err != nil {
		r.log.Warn("discovery: unreadable record ignored", "offset", kr.Offset, "err", err)
		return
	}
	if r.self != nil && rec.Addr == r.self.Addr {
		return
	}
	if rec.First < 0 {
		rec.First = kr.Offset
	}
	r.latest[key] = rec
}

func (r *Registry) view(now time.Time) coordinator.DiscoveryView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := coordinator.DiscoveryView{Rank: -1}
	if r.self != nil {
		v.Rank = r.self.First
	}
	stale := 2 * r.cfg.FailureTimeout
	for _, rec := range r.latest {
		age := now.Sub(rec.At)
		if age >= stale {
			continue
		}
		v.Others = append(v.Others, coordinator.DiscoveredReplica{Announcement: rec.Announcement, Rank: rec.First, Age: max(age, 0)})
	}
	slices.SortFunc(v.Others, func(a, b coordinator.DiscoveredReplica) int {
		switch {
		case a.Rank < b.Rank:
			return -1
		case a.Rank > b.Rank:
			return 1
		}
		return 0
	})
	return v
}

// Withdraw stops publishing and writes a tombstone for this replica.
func (r *Registry) Withdraw(ctx context.Context) error {
	r.Close()
	r.mu.Lock()
	self := r.self
	r.mu.Unlock()
	if self == nil {
		return nil
	}
	_, err := r.produce(ctx, self.ID, nil)
	if err == nil {
		r.log.Info("discovery: withdrew the announcement", "addr", self.Addr)
	}
	return err
}

// Close stops publishing, without withdrawing. The client stays open for a
// Withdraw; Shutdown closes it.
func (r *Registry) Close() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	started := r.self != nil
	r.mu.Unlock()
	close(r.stop)
	if started {
		<-r.done
	}
}

// Shutdown stops publishing and closes the Kafka client.
func (r *Registry) Shutdown() {
	r.Close()
	r.cl.Close()
}
