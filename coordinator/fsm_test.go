package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// memSink is a raft.SnapshotSink over a buffer.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "test" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

type applier struct {
	t     *testing.T
	f     *fsm
	index uint64
	now   time.Time
}

func (a *applier) do(c command) applyResult {
	a.t.Helper()
	a.index++
	a.now = a.now.Add(time.Second)
	c.Time = a.now
	data, err := json.Marshal(c)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.f.Apply(&raft.Log{Index: a.index, Type: raft.LogCommand, Data: data}).(applyResult)
}

func (a *applier) ok(c command) applyResult {
	a.t.Helper()
	res := a.do(c)
	if res.Err != nil {
		a.t.Fatalf("%s: %v", c.Op, res.Err)
	}
	return res
}

// populated builds an FSM with members, an assignment with history and a
// checkpoint log with complete, expired, aborted and in-flight entries.
func populated(t *testing.T) *fsm {
	tasks := testTasks(4)
	a := &applier{t: t, f: newFSM(tasks, 2), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a.ok(command{Op: opJoin, Addr: "a:1", ID: "a", StatusAddr: "a:80"})
	a.ok(command{Op: opJoin, Addr: "b:1", ID: "b"})
	a.ok(command{Op: opAssign, BaseEpoch: 0, Reason: "assign", Moves: []TaskMove{
		{Task: tasks[0], To: "a:1"}, {Task: tasks[1], To: "a:1"}, {Task: tasks[2], To: "b:1"}, {Task: tasks[3], To: "b:1"}}})
	for i := 0; i < 4; i++ {
		id := a.ok(command{Op: opCkptStart, BaseEpoch: 1, Expected: tasks}).Checkpoint
		for j, task := range tasks {
			owner := "a:1"
			if j >= 2 {
				owner = "b:1"
			}
			a.ok(command{Op: opCkptAck, Addr: owner, Checkpoint: id, Task: task, Ack: CheckpointAck{ManifestRef: "m", Files: j,
				SourceOffsets: map[string]int64{"in/0": int64(i)}}})
		}
	}
	id := a.ok(command{Op: opCkptStart, BaseEpoch: 1, Expected: tasks}).Checkpoint
	a.ok(command{Op: opCkptAbort, Checkpoint: id, Reason: "test"})
	id = a.ok(command{Op: opCkptStart, BaseEpoch: 1, Expected: tasks}).Checkpoint
	a.ok(command{Op: opCkptAbort, Addr: "b:1", Checkpoint: id, Task: tasks[2], Reason: "upload failed"})
	a.ok(command{Op: opJoin, Addr: "c:1", ID: "c"})
	a.ok(command{Op: opAssign, BaseEpoch: 1, Reason: "warm-up", Moves: []TaskMove{{Task: tasks[0], To: "c:1", Standby: true, Warmup: true}}})
	a.ok(command{Op: opDead, Addr: "b:1", Incarnation: 2, Reason: "test"})
	a.ok(command{Op: opCkptStart, BaseEpoch: 3, Expected: tasks})
	return a.f
}

func stateJSON(t *testing.T, f *fsm) string {
	t.Helper()
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	fs := s.(*fsmSnapshot)
	b, err := json.Marshal(map[string]any{"members": fs.members, "asg": fs.asg, "ckpt": fs.ckpt})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFSMSnapshotRoundTrip(t *testing.T) {
	f := populated(t)
	want := stateJSON(t, f)
	for _, s := range []string{`"state":"dead"`, `"expired":true`, `"state":"aborted"`, `"state":"started"`, `"last_owner"`,
		`"aborted_by":"b:1"`, `"failed_task"`, `"warmup":{"0_0":"c:1"}`} {
		if !strings.Contains(want, s) {
			t.Fatalf("populated state lacks %s: %s", s, want)
		}
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed %v cancelled %v", sink.closed, sink.cancelled)
	}
	data := sink.Bytes()
	// Sections, not one document: each name appears with its own length.
	for _, name := range []string{"members", "assignment", "checkpoints"} {
		if !bytes.Contains(data, append([]byte{byte(len(name))}, name...)) {
			t.Errorf("snapshot has no section %s", name)
		}
	}

	g := newFSM(testTasks(4), 2)
	var notified effects
	g.notify = func(e effects) { notified = e }
	if err := g.Restore(readCloser{bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	if got := stateJSON(t, g); got != want {
		t.Errorf("restored state differs:\n got %s\nwant %s", got, want)
	}
	if !notified.assignment {
		t.Error("restore did not notify the node of the new assignment")
	}
	// The restored FSM goes on: the in-flight checkpoint can be acked.
	if mine, epoch := g.mine("a:1"); len(mine) != 2 || epoch != 3 {
		t.Errorf("restored: a owns %v at epoch %d", mine, epoch)
	}

	// An unknown section is skipped; a truncated or foreign stream fails.
	var buf bytes.Buffer
	buf.Write(data[:len(snapshotMagic)+1])
	writeSection(&buf, "future", map[string]int{"x": 1})
	buf.Write(data[len(snapshotMagic)+1:])
	h := newFSM(testTasks(4), 2)
	if err := h.Restore(readCloser{bytes.NewReader(buf.Bytes())}); err != nil {
		t.Errorf("restore with an unknown section: %v", err)
	} else if got := stateJSON(t, h); got != want {
		t.Error("restore with an unknown section changed the state")
	}
	if err := newFSM(nil, 2).Restore(readCloser{bytes.NewReader(data[:len(data)-10])}); err == nil {
		t.Error("truncated snapshot restored without error")
	}
	if err := newFSM(nil, 2).Restore(readCloser{strings.NewReader("not a snapshot at all")}); err == nil {
		t.Error("foreign data restored without error")
	}
}

type readCloser struct {
	r interface{ Read([]byte) (int, error) }
}

func (r readCloser) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r readCloser) Close() error               { return nil }

func TestFSMRejectsStaleDecisions(t *testing.T) {
	tasks := testTasks(2)
	a := &applier{t: t, f: newFSM(tasks, 3)}
	a.ok(command{Op: opJoin, Addr: "a:1"})
	a.ok(command{Op: opJoin, Addr: "b:1"})
	a.ok(command{Op: opAssign, BaseEpoch: 0, Moves: []TaskMove{{Task: tasks[0], To: "a:1"}}})
	for _, c := range []command{
		{Op: opAssign, BaseEpoch: 0, Moves: []TaskMove{{Task: tasks[1], To: "b:1"}}},               // stale epoch
		{Op: opAssign, BaseEpoch: 1, Moves: []TaskMove{{Task: tasks[0], From: "a:1", To: "b:1"}}},  // direct move
		{Op: opAssign, BaseEpoch: 1, Moves: []TaskMove{{Task: tasks[0], To: "b:1"}}},               // not from its owner
		{Op: opAssign, BaseEpoch: 1, Moves: []TaskMove{{Task: tasks[1], To: "nobody:1"}}},          // not a member
		{Op: opAssign, BaseEpoch: 1, Moves: []TaskMove{{Task: TaskID{SubTopology: 9}, To: "a:1"}}}, // unknown task
		{Op: opDead, Addr: "a:1", Incarnation: 99},                                                 // another incarnation
		{Op: opCkptStart, BaseEpoch: 0},                                                            // stale epoch
		{Op: "bogus"},
	} {
		if res := a.do(c); res.Err == nil {
			t.Errorf("%+v applied; want it rejected", c)
		}
	}
	// A join of an alive member is idempotent: same incarnation.
	if res := a.ok(command{Op: opJoin, Addr: "a:1"}); res.Incarnation != 1 {
		t.Errorf("re-join: incarnation %d, want 1", res.Incarnation)
	}
	// Death frees the member's tasks in the same entry, remembering the owner.
	a.ok(command{Op: opDead, Addr: "a:1", Incarnation: 1})
	v := a.f.view()
	if _, owned := v.owner[tasks[0]]; owned || v.lastOwner[tasks[0]] != "a:1" || v.releasedAt[tasks[0]] != v.epoch {
		t.Errorf("after death: owner %v last %v released %v epoch %d", v.owner, v.lastOwner, v.releasedAt, v.epoch)
	}
	// Joining again gives a new incarnation.
	if res := a.ok(command{Op: opJoin, Addr: "a:1"}); res.Incarnation == 1 {
		t.Error("re-join after death kept the old incarnation")
	}
}

func TestSnapshotThroughRaftAndRestart(t *testing.T) {
	// A single replica (port chosen at start) takes a Raft snapshot, closes,
	// and starts again on the same directory with a new port: the state comes
	// back from the snapshot, and the new address takes over the tasks.
	log := newTestLogger(t)
	dir := t.TempDir()
	tasks := testTasks(4)
	cfg := Config{ID: "solo", DataDir: dir, Tasks: tasks, HeartbeatInterval: 100 * time.Millisecond,
		FailureTimeout: 900 * time.Millisecond, Logger: log}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()

	n, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all tasks assigned to the single replica", func() bool { return len(n.Mine()) == 4 })
	first := n.Addr()
	n.SetRunning(n.Mine(), nil)
	waitFor(t, "a running report", func() bool { return n.allRunning(n.leading.Load(), n.fsm.view()) })
	id, err := n.ForceCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if err := n.AckCheckpoint(ctx, id, task, CheckpointAck{ManifestRef: "ref-" + task.String()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.raft().Snapshot().Error(); err != nil {
		t.Fatalf("raft snapshot: %v", err)
	}
	before := stateJSON(t, n.fsm)
	n.Close()

	m, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Addr() == first {
		t.Log("the new listener got the same port; the address change path is not exercised")
	}
	if err := m.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m.raft().Stats()["last_snapshot_index"]; got == "0" {
		t.Errorf("restarted node has no snapshot (last_snapshot_index %s)", got)
	}
	after := stateJSON(t, m.fsm)
	if !strings.Contains(after, `"next_id":2`) || !strings.Contains(after, `"ref-1_1"`) {
		t.Errorf("restored state lost the checkpoint log:\nbefore %s\nafter  %s", before, after)
	}
	if lc := m.LatestComplete(tasks[1]); len(lc) != 1 || lc[0].ManifestRef != "ref-"+tasks[1].String() {
		t.Errorf("LatestComplete after restart: %+v", lc)
	}
	// The tasks end up with the new address (the old one is declared dead
	// if it differs).
	waitFor(t, "the tasks to come back to the restarted replica", func() bool { return len(m.Mine()) == 4 })
	if m.Addr() != first {
		if old, _ := m.fsm.member(first); old.State != MemberDead {
			t.Errorf("the old address is %s, want dead", old.State)
		}
	}
}
