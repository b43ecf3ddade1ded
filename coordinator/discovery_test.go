package coordinator

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// memLog is an in-memory discovery log shared by a test's nodes: what
// runtime/discovery keeps in a Kafka topic.
type memLog struct {
	ft   time.Duration
	mu   sync.Mutex
	recs []memRec
}

type memRec struct {
	a     Announcement
	first int64
	at    time.Time
	gone  bool // a tombstone
}

// memDiscovery is one node's side of a memLog.
type memDiscovery struct {
	log *memLog
	// announced, if set, is waited on after the first announcement (to
	// start nodes at the same moment).
	announced func()
	stop      chan struct{}
	once      sync.Once

	mu      sync.Mutex
	self    *memRec
	lastOK  time.Time
	broken  bool
	started bool
}

func (l *memLog) node() *memDiscovery { return &memDiscovery{log: l, stop: make(chan struct{})} }

func (l *memLog) append(r memRec) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.at = time.Now()
	if r.first < 0 {
		r.first = int64(len(l.recs))
	}
	l.recs = append(l.recs, r)
	return r.first
}

func (d *memDiscovery) Announce(ctx context.Context, self Announcement) error {
	first := d.log.append(memRec{a: self, first: -1})
	d.mu.Lock()
	d.self = &memRec{a: self, first: first}
	d.lastOK, d.broken = time.Now(), false
	start := !d.started
	d.started = true
	d.mu.Unlock()
	if start {
		go d.republish()
		if d.announced != nil {
			d.announced()
		}
	}
	return nil
}

func (d *memDiscovery) republish() {
	t := time.NewTicker(d.log.ft / 2)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		d.mu.Lock()
		rec := *d.self
		d.mu.Unlock()
		d.log.append(rec)
		d.mu.Lock()
		d.lastOK = time.Now()
		d.mu.Unlock()
	}
}

func (d *memDiscovery) Read(ctx context.Context) (DiscoveryView, error) {
	d.mu.Lock()
	self := d.self
	d.mu.Unlock()
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	latest := map[string]memRec{}
	for _, r := range d.log.recs {
		if self != nil && r.a.Addr == self.a.Addr {
			continue
		}
		latest[r.a.ID] = r
	}
	v := DiscoveryView{Rank: -1}
	if self != nil {
		v.Rank = self.first
	}
	for _, r := range latest {
		if age := time.Since(r.at); !r.gone && age < 2*d.log.ft {
			v.Others = append(v.Others, DiscoveredReplica{Announcement: r.a, Rank: r.first, Age: age})
		}
	}
	slices.SortFunc(v.Others, func(a, b DiscoveredReplica) int { return int(a.Rank - b.Rank) })
	return v, nil
}

func (d *memDiscovery) Standing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.self != nil && !d.broken && time.Since(d.lastOK) <= d.log.ft
}

func (d *memDiscovery) Withdraw(ctx context.Context) error {
	d.Close()
	d.mu.Lock()
	self := d.self
	d.mu.Unlock()
	if self != nil {
		d.log.append(memRec{a: self.a, first: self.first, gone: true})
	}
	return nil
}

func (d *memDiscovery) Close() { d.once.Do(func() { close(d.stop) }) }

// newDiscoveredCluster makes a cluster whose nodes have no peers and find
// each other through one memLog; it starts none.
func newDiscoveredCluster(t *testing.T, tasks int) (*cluster, *memLog) {
	ml := &memLog{ft: 1500 * time.Millisecond}
	c := newCluster(t, 0, tasks, func(cfg *Config) { cfg.Voters = 3 })
	c.perNode = func(cfg *Config) { cfg.Discovery = ml.node() }
	return c, ml
}

func (c *cluster) voters(n *testNode) (voters, all int) {
	cf := n.raft().GetConfiguration()
	if cf.Error() != nil {
		return 0, 0
	}
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	return voters, len(cf.Configuration().Servers)
}

// Three nodes started at the same moment (each reads the log only once all
// three have announced): exactly one (the first in the log) bootstraps, the
// others join it, and the group ends with 3 voters.
func TestDiscoveredNodesStartedTogetherFormOneGroup(t *testing.T) {
	c, ml := newDiscoveredCluster(t, 6)
	var all sync.WaitGroup
	all.Add(3)
	c.perNode = func(cfg *Config) {
		d := ml.node()
		d.announced = func() { all.Done(); all.Wait() }
		cfg.Discovery = d
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.add(fmt.Sprintf("d%d", i+1))
		}()
	}
	wg.Wait()
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return len(counts) == 3 })
	first := 0
	for _, n := range c.nodes {
		if n.bootstrapFirst {
			first++
		}
	}
	if first != 1 {
		t.Errorf("%d nodes bootstrapped a group, want 1", first)
	}
	l := c.leader()
	waitFor(t, "3 voters", func() bool { v, all := c.voters(l); return v == 3 && all == 3 })
}

// Two nodes have one voter. Closing it (a crash) leaves the other without a
// quorum; once the voter's announcement is stale the other recovers the
// group alone and runs every task. A node started later joins it.
func TestDiscoveredPairSurvivesLosingTheVoter(t *testing.T) {
	c, _ := newDiscoveredCluster(t, 4)
	a := c.add("a")
	c.waitReady()
	b := c.add("b")
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return len(counts) == 2 })
	if v, all := c.voters(a); v != 1 || all != 2 {
		t.Fatalf("2 members: %d voters of %d servers, want 1 of 2", v, all)
	}
	voter := c.leader()
	other := a
	if voter == a {
		other = b
	}
	voter.Close()
	voter.eng.close()
	c.settled(func(counts map[string]int) bool { return len(counts) == 1 && counts[other.addr] == 4 })
	if m, _ := other.fsm.member(voter.addr); m.State != MemberDead {
		t.Errorf("the lost voter is %s in the recovered group, want dead", m.State)
	}
	c.add("c")
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return len(counts) == 2 })
	checkHistory(t, other.fsm.history(maxAssignmentHistory))
}
