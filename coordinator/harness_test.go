package coordinator

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run real nodes: real Raft over TCP on 127.0.0.1, real bolt
// stores in temporary directories, several nodes in one process. Times are
// only hang guards; what is checked is order (who ran a task when, from the
// nodes' own clocks), never speed.

const hang = 45 * time.Second // a generous guard against a test hanging

func testTasks(n int) []TaskID {
	var out []TaskID
	for i := 0; i < n; i++ {
		out = append(out, TaskID{SubTopology: i % 2, Partition: int32(i / 2)})
	}
	return out
}

// freeAddrs reserves n ports on 127.0.0.1 (a static peer list needs them
// before the nodes start).
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var lns []net.Listener
	var out []string
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("reserve a port: %v", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// testLog collects the nodes' logs and prints them only if the test fails.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 4<<20 {
		b := l.buf.Bytes()
		l.buf = *bytes.NewBuffer(append([]byte(nil), b[len(b)/2:]...))
	}
	return l.buf.Write(p)
}

func newTestLogger(t *testing.T) *slog.Logger {
	l := &testLog{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			t.Logf("node logs:\n%s", l.buf.String())
			l.mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type cluster struct {
	t     *testing.T
	log   *slog.Logger
	tasks []TaskID
	peers []string
	base  Config
	rec   *recorder
	// perNode adjusts each node's configuration (a discovery of its own).
	perNode func(cfg *Config)
	mu      sync.Mutex // for nodes started concurrently
	nodes   []*testNode
}

type testNode struct {
	*Node
	name string
	dir  string
	eng  *fakeEngine
}

// newCluster starts n nodes listed as static peers (the first min(n,3) vote).
func newCluster(t *testing.T, n, tasks int, tweak func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, log: newTestLogger(t), tasks: testTasks(tasks), peers: freeAddrs(t, n), rec: newRecorder()}
	c.base = Config{Tasks: c.tasks, Peers: c.peers, Voters: min(n, 3),
		HeartbeatInterval: 100 * time.Millisecond, FailureTimeout: 1500 * time.Millisecond,
		CheckpointInterval: 0, KeepCheckpoints: 2, HandoverTimeout: 20 * time.Second}
	if n == 1 {
		c.base.Voters = 1
	}
	if tweak != nil {
		tweak(&c.base)
	}
	for i, addr := range c.peers {
		c.start(fmt.Sprintf("n%d", i+1), addr, t.TempDir())
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.eng.close()
			n.Close()
		}
		c.rec.check(t)
	})
	return c
}

// start starts one node (a fresh one, or a restart on an existing dir).
func (c *cluster) start(name, addr, dir string) *testNode {
	c.t.Helper()
	cfg := c.base
	cfg.ID = name
	cfg.RaftAddr = addr
	cfg.DataDir = dir
	cfg.StatusAddr = "status-of-" + name
	cfg.Logger = c.log.With("node", name)
	cfg.hooks = &testHooks{}
	if c.perNode != nil {
		c.perNode(&cfg)
	}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	tn := &testNode{Node: n, name: name, dir: dir}
	tn.eng = newFakeEngine(n, name, c.rec)
	c.mu.Lock()
	c.nodes = append(c.nodes, tn)
	c.mu.Unlock()
	return tn
}

// add starts a node that is not in the peer list: it joins.
func (c *cluster) add(name string) *testNode {
	return c.start(name, freeAddrs(c.t, 1)[0], c.t.TempDir())
}

func (c *cluster) alive() []*testNode {
	var out []*testNode
	for _, n := range c.nodes {
		n.mu.Lock()
		closed := n.closed
		n.mu.Unlock()
		if !closed {
			out = append(out, n)
		}
	}
	return out
}

func (c *cluster) byAddr(addr string) *testNode {
	for _, n := range c.nodes {
		if n.addr == addr {
			return n
		}
	}
	return nil
}

// leader waits for a ready leader among the running nodes.
func (c *cluster) leader() *testNode {
	c.t.Helper()
	var l *testNode
	waitFor(c.t, "a ready leader", func() bool {
		for _, n := range c.alive() {
			if n.IsLeader() && n.leading.Load() != nil {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

func (c *cluster) waitReady() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	for _, n := range c.alive() {
		if err := n.WaitReady(ctx); err != nil {
			c.t.Fatalf("%s: %v", n.name, err)
		}
	}
}

// settled waits until every task is owned by an alive member, each of the
// running nodes has applied the leader's epoch, and every engine runs
// exactly what it owns; it returns the owners.
func (c *cluster) settled(want func(counts map[string]int) bool) map[TaskID]string {
	c.t.Helper()
	var owners map[TaskID]string
	waitFor(c.t, "a settled assignment", func() bool {
		l := c.leaderNow()
		if l == nil {
			return false
		}
		v := l.fsm.view()
		if len(v.owner) != len(c.tasks) {
			return false
		}
		counts := map[string]int{}
		for _, o := range v.owner {
			if v.members[o].State != MemberAlive {
				return false
			}
			counts[o]++
		}
		if want == nil {
			want = func(counts map[string]int) bool { return balanced(counts, len(c.alive()), len(c.tasks)) }
		}
		if !want(counts) {
			return false
		}
		for _, n := range c.alive() {
			if n.fsm.view().epoch != v.epoch {
				return false
			}
			mine, _ := n.fsm.mine(n.addr)
			if !slices.Equal(n.eng.runningTasks(), mine) {
				return false
			}
		}
		owners = v.owner
		return true
	})
	return owners
}

// balanced says whether members owners hold the tasks within one of each
// other.
func balanced(counts map[string]int, members, tasks int) bool {
	if len(counts) != min(members, tasks) {
		return false
	}
	for _, n := range counts {
		if n < tasks/members || n > (tasks+members-1)/members {
			return false
		}
	}
	return true
}

func (c *cluster) leaderNow() *testNode {
	for _, n := range c.alive() {
		if n.IsLeader() && n.leading.Load() != nil {
			return n
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countsOf(owners map[TaskID]string) []int {
	m := map[string]int{}
	for _, o := range owners {
		m[o]++
	}
	var out []int
	for _, n := range m {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// fakeEngine does what the engine does with a node: it runs the tasks the
// events give it while MayRun allows, reports them with SetRunning, acks
// checkpoints, and stops everything when fenced. "Processing" happens right
// after each approving MayRun; the recorder notes those instants.
type fakeEngine struct {
	n    *Node
	name string
	rec  *recorder
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	mine     []TaskID
	running  map[TaskID]bool
	fenced   []string
	started  []uint64
	finished map[uint64]bool
	acked    map[uint64]int
	ackErrs  []error
	noAcks   bool // do not ack checkpoints (a replica whose uploads hang)
}

func newFakeEngine(n *Node, name string, rec *recorder) *fakeEngine {
	e := &fakeEngine{n: n, name: name, rec: rec, stop: make(chan struct{}), done: make(chan struct{}),
		running: map[TaskID]bool{}, finished: map[uint64]bool{}, acked: map[uint64]int{}}
	go e.run()
	return e
}

func (e *fakeEngine) close() {
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	<-e.done
}

func (e *fakeEngine) run() {
	defer close(e.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var acks sync.WaitGroup
	defer acks.Wait()
	for {
		select {
		case <-e.stop:
			e.mu.Lock()
			e.stopAll()
			e.mu.Unlock()
			return
		case ev := <-e.n.Events():
			e.mu.Lock()
			switch ev := ev.(type) {
			case AssignmentChanged:
				e.mine = ev.Mine
			case Fenced:
				e.fenced = append(e.fenced, ev.Reason)
				e.stopAll()
			case CheckpointStarted:
				e.started = append(e.started, ev.ID)
				if e.noAcks {
					break
				}
				for t := range e.running {
					acks.Add(1)
					go func(t TaskID) {
						defer acks.Done()
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						err := e.n.AckCheckpoint(ctx, ev.ID, t, CheckpointAck{ManifestRef: fmt.Sprintf("%s/%d/%s", e.name, ev.ID, t), Files: 1, Bytes: 10})
						e.mu.Lock()
						if err != nil {
							e.ackErrs = append(e.ackErrs, err)
						} else {
							e.acked[ev.ID]++
						}
						e.mu.Unlock()
					}(t)
				}
			case CheckpointFinished:
				e.finished[ev.ID] = ev.Complete
			}
			e.mu.Unlock()
		case <-tick.C:
		}
		e.mu.Lock()
		e.reconcile()
		e.mu.Unlock()
	}
}

func (e *fakeEngine) stopAll() {
	if len(e.running) == 0 {
		return
	}
	for t := range e.running {
		e.rec.stop(t, e.name)
	}
	clear(e.running)
	e.n.SetRunning(nil, nil)
}

func (e *fakeEngine) reconcile() {
	changed := false
	for t := range e.running {
		if slices.Contains(e.mine, t) && e.n.MayRun(t) {
			e.rec.touch(t, e.name) // a batch of t processed now
			continue
		}
		e.rec.stop(t, e.name)
		delete(e.running, t)
		changed = true
	}
	for _, t := range e.mine {
		if !e.running[t] && e.n.MayRun(t) {
			e.rec.start(t, e.name)
			e.running[t] = true
			changed = true
		}
	}
	if changed {
		ids := make([]TaskID, 0, len(e.running))
		lags := map[string]int64{}
		for t := range e.running {
			ids = append(ids, t)
			lags[t.String()] = int64(t.Partition)
		}
		e.n.SetRunning(ids, lags)
	}
}

func (e *fakeEngine) runningTasks() []TaskID {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]TaskID, 0, len(e.running))
	for t := range e.running {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTasks)
	return out
}

func (e *fakeEngine) setNoAcks(v bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noAcks = v
}

func (e *fakeEngine) finishedOf(id uint64) (complete, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	complete, ok = e.finished[id]
	return
}

func (e *fakeEngine) fencedReasons() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.fenced)
}

// recorder keeps, per task, the spans in which each node processed it: from
// its first approving MayRun to its last.
type recorder struct {
	mu    sync.Mutex
	open  map[TaskID]map[string]*span
	spans map[TaskID][]span
}

type span struct {
	node        string
	first, last time.Time
}

func newRecorder() *recorder {
	return &recorder{open: map[TaskID]map[string]*span{}, spans: map[TaskID][]span{}}
}

func (r *recorder) start(t TaskID, node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open[t] == nil {
		r.open[t] = map[string]*span{}
	}
	now := time.Now()
	r.open[t][node] = &span{node: node, first: now, last: now}
}

func (r *recorder) touch(t TaskID, node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.open[t][node]; s != nil {
		s.last = time.Now()
	}
}

func (r *recorder) stop(t TaskID, node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.open[t][node]; s != nil {
		r.spans[t] = append(r.spans[t], *s)
		delete(r.open[t], node)
	}
}

// lastOf returns the end of node's last span of any task.
func (r *recorder) lastOf(node string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var last time.Time
	for _, ss := range r.spans {
		for _, s := range ss {
			if s.node == node && s.last.After(last) {
				last = s.last
			}
		}
	}
	for _, m := range r.open {
		if s := m[node]; s != nil && s.last.After(last) {
			last = s.last
		}
	}
	return last
}

// check fails the test if two nodes ever processed the same task in
// overlapping spans.
func (r *recorder) check(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var problems []string
	for task, ss := range r.spans {
		all := slices.Clone(ss)
		for _, s := range r.open[task] {
			all = append(all, *s)
		}
		slices.SortFunc(all, func(a, b span) int { return a.first.Compare(b.first) })
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				if all[i].node != all[j].node && !all[j].first.After(all[i].last) {
					problems = append(problems, fmt.Sprintf("task %s: %s ran it until %s, %s from %s",
						task, all[i].node, all[i].last.Format("15:04:05.000"), all[j].node, all[j].first.Format("15:04:05.000")))
				}
			}
		}
	}
	if len(problems) > 0 {
		t.Errorf("two replicas processed a task at once:\n%s", strings.Join(problems, "\n"))
	}
}

// checkHistory replays the assignment history: every move starts from the
// current owner and no move goes directly from one member to another.
func checkHistory(t *testing.T, h []AssignmentChange) {
	t.Helper()
	owner := map[TaskID]string{}
	for i, ch := range h {
		if i > 0 && ch.Epoch != h[i-1].Epoch+1 {
			t.Errorf("history: epoch %d follows %d", ch.Epoch, h[i-1].Epoch)
		}
		for _, mv := range ch.Moves {
			if mv.From != "" && mv.To != "" {
				t.Errorf("history epoch %d: task %s moved directly from %s to %s", ch.Epoch, mv.Task, mv.From, mv.To)
			}
			if cur, ok := owner[mv.Task]; ok && cur != mv.From {
				t.Errorf("history epoch %d: task %s moves from %q but %q owns it", ch.Epoch, mv.Task, mv.From, cur)
			}
			owner[mv.Task] = mv.To
		}
	}
}
