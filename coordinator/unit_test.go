package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTaskID(t *testing.T) {
	for _, s := range []string{"0_0", "0_3", "12_1024"} {
		id, err := ParseTaskID(s)
		if err != nil || id.String() != s {
			t.Errorf("ParseTaskID(%q) = %v, %v", s, id, err)
		}
	}
	for _, s := range []string{"", "0", "0_", "_1", "a_1", "1_b", "-1_0", "0_-1", "0_99999999999"} {
		if _, err := ParseTaskID(s); err == nil {
			t.Errorf("ParseTaskID(%q) accepted", s)
		}
	}
	var m map[TaskID]int
	if err := jsonRoundTrip(map[TaskID]int{{1, 2}: 3}, &m); err != nil || m[TaskID{1, 2}] != 3 {
		t.Errorf("TaskID as a JSON map key: %v %v", m, err)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{DataDir: "/tmp/x"}
	c, err := ok.withDefaults()
	if err != nil || c.Voters != 1 || c.HeartbeatInterval != DefaultHeartbeatInterval || c.CheckpointTimeout != minCheckpointTimeout || c.CheckpointInterval != 0 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	three := Config{DataDir: "/tmp/x", Peers: []string{"a:1", "b:1", "c:1", "d:1"}}
	if c, err := three.withDefaults(); err != nil || c.Voters != 3 {
		t.Errorf("4 peers: voters %d, %v", c.Voters, err)
	}
	for _, bad := range []Config{
		{},                        // no data dir
		{DataDir: "x", Voters: 2}, // even voters
		{DataDir: "x", Voters: 3}, // voters without peers
		{DataDir: "x", Peers: []string{"a:1"}, Voters: 3},
		{DataDir: "x", Peers: []string{"a:1", "a:1"}},
		{DataDir: "x", Peers: []string{"nohost"}},
		{DataDir: "x", Peers: []string{"a:1"}, PeersDNS: "svc"},
		{DataDir: "x", Tasks: []TaskID{{0, 1}, {0, 1}}},
		{DataDir: "x", FailureTimeout: time.Second, HeartbeatInterval: time.Second},
		{DataDir: "x", CheckpointInterval: -1},
		{DataDir: "x", AdvertiseAddr: "host:0"},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := Start(context.Background(), Config{DataDir: t.TempDir(), RaftAddr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "AdvertiseAddr") {
		t.Errorf("binding all interfaces without an advertise address: %v", err)
	}
}

// planView builds a view with alive members and owners.
func planView(alive []string, owner map[TaskID]string, last map[TaskID]string) view {
	v := view{members: map[string]member{}, owner: owner, lastOwner: last, releasedAt: map[TaskID]uint64{}}
	for _, a := range alive {
		v.members[a] = member{Addr: a, State: MemberAlive}
	}
	if v.lastOwner == nil {
		v.lastOwner = map[TaskID]string{}
	}
	return v
}

// applyPlan runs plan until it makes no more moves (every release
// confirmed at once) and counts the moves.
func applyPlan(t *testing.T, tasks []TaskID, v view) (map[TaskID]string, int) {
	t.Helper()
	moves := 0
	for i := 0; i < 10; i++ {
		mv, _ := plan(tasks, v, func(TaskID) bool { return true }, nil)
		if len(mv) == 0 {
			return v.owner, moves
		}
		for _, m := range mv {
			if m.From != "" && m.To != "" {
				t.Fatalf("direct move %+v", m)
			}
			if m.To == "" {
				delete(v.owner, m.Task)
				v.lastOwner[m.Task] = m.From
				moves++
			} else {
				v.owner[m.Task] = m.To
			}
		}
	}
	t.Fatal("plan does not converge")
	return nil, 0
}

func TestPlanBalancedAndSticky(t *testing.T) {
	tasks := testTasks(8)
	owner, _ := applyPlan(t, tasks, planView([]string{"a", "b", "c"}, map[TaskID]string{}, nil))
	if got := countsOf(owner); !slices.Equal(got, []int{2, 3, 3}) {
		t.Fatalf("fresh: %v", got)
	}
	before := maps2(owner)

	// A fourth member: exactly two tasks move, both to it.
	owner, released := applyPlan(t, tasks, planView([]string{"a", "b", "c", "d"}, owner, nil))
	if got := countsOf(owner); !slices.Equal(got, []int{2, 2, 2, 2}) || released != 2 {
		t.Fatalf("join: %v, %d released", got, released)
	}
	for task, o := range owner {
		if o != before[task] && o != "d" {
			t.Errorf("task %s moved %s → %s", task, before[task], o)
		}
	}

	// A member dies (its tasks were freed): only its tasks move.
	before = maps2(owner)
	last := map[TaskID]string{}
	for task, o := range owner {
		if o == "b" {
			delete(owner, task)
			last[task] = "b"
		}
	}
	owner, released = applyPlan(t, tasks, planView([]string{"a", "c", "d"}, owner, last))
	if got := countsOf(owner); !slices.Equal(got, []int{2, 3, 3}) || released != 0 {
		t.Fatalf("death: %v, %d released", got, released)
	}
	for task, o := range owner {
		if before[task] != "b" && o != before[task] {
			t.Errorf("task %s of a live member moved %s → %s", task, before[task], o)
		}
	}
}

func TestPlanPrefersLastOwnerAndWaits(t *testing.T) {
	tasks := testTasks(4)
	// Task 0 was released by b (alive, room for it): it goes back to b even
	// though b has not confirmed; task 1 was released by a (no room) and may
	// not be assigned yet: it waits.
	owner := map[TaskID]string{tasks[2]: "a", tasks[3]: "a"}
	last := map[TaskID]string{tasks[0]: "b", tasks[1]: "a"}
	v := planView([]string{"a", "b"}, owner, last)
	moves, _ := plan(tasks, v, func(t TaskID) bool { return false }, nil)
	if !slices.Equal(moves, []TaskMove{{Task: tasks[0], To: "b"}}) {
		t.Errorf("moves %+v", moves)
	}
	// No alive member: nothing to do.
	if moves, _ := plan(tasks, planView(nil, map[TaskID]string{}, nil), func(TaskID) bool { return true }, nil); len(moves) != 0 {
		t.Errorf("no members: %+v", moves)
	}
}

func maps2(m map[TaskID]string) map[TaskID]string {
	out := map[TaskID]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestEventQueueCoalescesAssignments(t *testing.T) {
	q := newEventQueue(newTestLogger(t))
	q.push(AssignmentChanged{Epoch: 1})
	q.push(CheckpointStarted{ID: 7, Epoch: 1})
	q.push(AssignmentChanged{Epoch: 2})
	q.push(CheckpointFinished{ID: 7})
	q.push(AssignmentChanged{Epoch: 3})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); q.run(ctx) }()
	var got []string
	for i := 0; i < 3; i++ {
		select {
		case ev := <-q.out:
			got = append(got, fmt.Sprintf("%T%+v", ev, ev))
		case <-time.After(hang):
			t.Fatal("no event")
		}
	}
	cancel()
	wg.Wait()
	want := []string{
		"coordinator.CheckpointStarted{ID:7 Epoch:1}",
		"coordinator.CheckpointFinished{ID:7 Complete:false}",
		"coordinator.AssignmentChanged{Epoch:3 Mine:[] Standby:[]}",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%v\nwant\n%v", got, want)
	}
}

// fakeResolver answers from maps and counts lookups.
type fakeResolver struct {
	mu    sync.Mutex
	calls int
	srv   func(call int) []*net.SRV
	hosts func(call int) []string
}

func (r *fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if service != "raft" || proto != "tcp" {
		return "", nil, fmt.Errorf("unexpected SRV lookup %s %s", service, proto)
	}
	if r.srv == nil {
		return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	if s := r.srv(r.calls); s != nil {
		return "", s, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return r.hosts(r.calls), nil
}

func TestLookupPeers(t *testing.T) {
	ctx := context.Background()
	srv := &fakeResolver{srv: func(int) []*net.SRV {
		return []*net.SRV{{Target: "app-2.app.ns.svc.cluster.local.", Port: 7000}, {Target: "app-0.app.ns.svc.cluster.local.", Port: 7000}}
	}}
	got, err := lookupPeers(ctx, srv, "app.ns.svc.cluster.local", 0)
	want := []string{"app-0.app.ns.svc.cluster.local:7000", "app-2.app.ns.svc.cluster.local:7000"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("SRV: %v %v", got, err)
	}
	a := &fakeResolver{hosts: func(int) []string { return []string{"10.0.0.9", "10.0.0.1", "10.0.0.1"} }}
	got, err = lookupPeers(ctx, a, "app", 7000)
	if err != nil || !slices.Equal(got, []string{"10.0.0.1:7000", "10.0.0.9:7000"}) {
		t.Errorf("A records: %v %v", got, err)
	}
	if _, err := lookupPeers(ctx, a, "app", 0); err == nil {
		t.Error("A records without a port accepted")
	}
	if _, err := lookupPeers(ctx, &fakeResolver{}, "app", 7000); err == nil {
		t.Error("nothing found, no error")
	}

	// Re-resolve until enough voters appear.
	grow := &fakeResolver{hosts: func(call int) []string {
		return []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}[:min(call, 3)]
	}}
	got, err = waitPeers(ctx, grow, "app", 7000, 3, time.Millisecond, hang, newTestLogger(t))
	if err != nil || len(got) != 3 || grow.calls != 3 {
		t.Errorf("waitPeers: %v %v after %d lookups", got, err, grow.calls)
	}
	few := &fakeResolver{hosts: func(int) []string { return []string{"10.0.0.1"} }}
	if _, err := waitPeers(ctx, few, "app", 7000, 3, time.Millisecond, 20*time.Millisecond, newTestLogger(t)); err == nil {
		t.Error("waitPeers gave up without an error")
	}
}

func TestPeersDNSCluster(t *testing.T) {
	// Three nodes find each other through (fake) SRV records and bootstrap
	// the first three sorted addresses as voters.
	addrs := freeAddrs(t, 3)
	res := &fakeResolver{srv: func(int) []*net.SRV {
		var out []*net.SRV
		for _, a := range addrs {
			host, port, _ := net.SplitHostPort(a)
			var p uint16
			fmt.Sscan(port, &p)
			out = append(out, &net.SRV{Target: host + ".", Port: p})
		}
		return out
	}}
	log := newTestLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var nodes []*Node
	for i, a := range addrs {
		n, err := Start(ctx, Config{ID: fmt.Sprint("d", i), RaftAddr: a, PeersDNS: "app.test", DataDir: t.TempDir(),
			Tasks: testTasks(3), HeartbeatInterval: 100 * time.Millisecond, FailureTimeout: 1500 * time.Millisecond,
			Logger: log, resolver: res})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := n.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "one task each", func() bool {
		for _, n := range nodes {
			if len(n.Mine()) != 1 {
				return false
			}
		}
		return true
	})
	st := nodes[0].Status()
	for _, m := range st.Members {
		if m.Suffrage != "voter" {
			t.Errorf("%s is %s", m.ID, m.Suffrage)
		}
	}
}

func TestMuxRefusesUnknownProtocol(t *testing.T) {
	log := newTestLogger(t)
	n, err := Start(context.Background(), Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(hang))
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err == nil {
		t.Error("a connection with an unknown protocol byte got an answer")
	}
	// The control protocol answers; a non-leader path 404s.
	var out map[string]any
	err = n.do(context.Background(), n.Addr(), "/nope", nil, nil, &out)
	var re *rpcError
	if !errors.As(err, &re) || re.Status != 404 {
		t.Errorf("unknown control path: %v", err)
	}
}

func jsonRoundTrip(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func TestOddVoters(t *testing.T) {
	for _, c := range []struct{ alive, limit, want int }{
		{0, 3, 1}, {1, 3, 1}, {2, 3, 1}, {3, 3, 3}, {4, 3, 3}, {5, 3, 3}, {5, 5, 5}, {6, 5, 5}, {9, 5, 5}, {4, 1, 1},
	} {
		if got := oddVoters(c.alive, c.limit); got != c.want {
			t.Errorf("oddVoters(%d alive, at most %d) = %d, want %d", c.alive, c.limit, got, c.want)
		}
	}
}
