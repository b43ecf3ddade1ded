package coordinator

import (
	"slices"
	"testing"
	"time"
)

// warmupRig is an FSM with a leader's plan over it: every task stateful but
// the last two, caught says which warm-ups report a lag within bounds, and
// every released task counts as stopped at once.
type warmupRig struct {
	t      *testing.T
	a      *applier
	tasks  []TaskID
	caught map[TaskID]bool
}

func (r *warmupRig) view() view {
	v := r.a.f.view()
	v.stateful = map[TaskID]bool{}
	for _, t := range r.tasks[:len(r.tasks)-2] {
		v.stateful[t] = true
	}
	v.maxWarmups = 2
	return v
}

// step plans once, applies the moves, and returns them.
func (r *warmupRig) step() []TaskMove {
	r.t.Helper()
	v := r.view()
	caughtUp := func(t TaskID, m string) bool { return r.caught[t] && slices.Contains(v.standby[t], m) }
	moves, reason := plan(r.tasks, v, func(TaskID) bool { return true }, caughtUp)
	if len(moves) == 0 {
		moves = planStandbys(r.tasks[:len(r.tasks)-2], v, 0)
		reason = describeStandbys(moves)
	}
	if len(moves) > 0 {
		r.a.ok(command{Op: opAssign, BaseEpoch: v.epoch, Moves: moves, Reason: reason})
	}
	return moves
}

func split(moves []TaskMove) (released, assigned, warmups, dropped []TaskID) {
	for _, mv := range moves {
		switch {
		case mv.Standby && mv.Warmup && mv.To != "":
			warmups = append(warmups, mv.Task)
		case mv.Standby && mv.From != "":
			dropped = append(dropped, mv.Task)
		case mv.To != "":
			assigned = append(assigned, mv.Task)
		default:
			released = append(released, mv.Task)
		}
	}
	return
}

// Scale-out from one member to two: stateless tasks move at once; stateful
// ones stay on a while b warms up (at most two at a time), and move to b one
// by one as its warm-ups catch up; b's death drops its warm-ups.
func TestWarmupScaleOut(t *testing.T) {
	tasks := testTasks(10)
	r := &warmupRig{t: t, tasks: tasks, caught: map[TaskID]bool{},
		a: &applier{t: t, f: newFSM(tasks, 2), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	r.a.ok(command{Op: opJoin, Addr: "a"})
	if mv := r.step(); len(mv) != 10 {
		t.Fatalf("first assignment %+v", mv)
	}
	r.a.ok(command{Op: opJoin, Addr: "b"})

	// a holds 10, its share is 5: the two stateless tasks (8, 9) are
	// released, 7 and 6 get warm-ups on b, 5 waits for a free warm-up.
	rel, asg, warm, _ := split(r.step())
	if !slices.Equal(rel, tasks[8:10]) && !slices.Equal(rel, []TaskID{tasks[9], tasks[8]}) || len(asg) != 0 {
		t.Fatalf("released %v assigned %v: want the stateless 8 and 9 released", rel, asg)
	}
	if !slices.Equal(warm, []TaskID{tasks[7], tasks[6]}) {
		t.Fatalf("warm-ups %v, want tasks 7 and 6", warm)
	}
	v := r.view()
	if v.warmup[tasks[7]] != "b" || v.warmup[tasks[6]] != "b" || len(v.warmup) != 2 ||
		!slices.Equal(v.standby[tasks[7]], []string{"b"}) {
		t.Fatalf("warm-ups in the state: %v, standbys %v", v.warmup, v.standby)
	}
	h := r.a.f.history(1)[0]
	if !slices.Contains(h.Moves, TaskMove{Task: tasks[7], To: "b", Standby: true, Warmup: true}) {
		t.Errorf("history %+v does not mark the warm-up", h)
	}

	// The stateless tasks go to b; the stateful ones stay while the
	// warm-ups lag (even with no standbys configured, they are kept).
	_, asg, warm, _ = split(r.step())
	if len(asg) != 2 || len(warm) != 0 {
		t.Fatalf("assigned %v warm-ups %v", asg, warm)
	}
	for range 3 {
		if mv := r.step(); len(mv) != 0 {
			t.Fatalf("moves while the warm-ups lag: %+v", mv)
		}
	}
	if v := r.view(); v.owner[tasks[7]] != "a" || v.owner[tasks[6]] != "a" || len(v.warmup) != 2 {
		t.Fatalf("owners %v warm-ups %v", v.owner, v.warmup)
	}

	// 7 catches up: released from a, then given to b (promoted), and only
	// then does 5 get the freed warm-up slot.
	r.caught[tasks[7]] = true
	rel, _, warm, _ = split(r.step())
	if !slices.Equal(rel, tasks[7:8]) || len(warm) != 0 {
		t.Fatalf("released %v warm-ups %v, want 7 released only", rel, warm)
	}
	_, asg, warm, _ = split(r.step())
	if !slices.Equal(asg, tasks[7:8]) || len(warm) != 0 {
		t.Fatalf("assigned %v warm-ups %v, want 7 to b", asg, warm)
	}
	v = r.view()
	if v.owner[tasks[7]] != "b" || len(v.standby[tasks[7]]) != 0 || v.warmup[tasks[7]] != "" {
		t.Fatalf("task 7: owner %q standbys %v warm-up %q", v.owner[tasks[7]], v.standby[tasks[7]], v.warmup[tasks[7]])
	}
	_, _, warm, _ = split(r.step())
	if !slices.Equal(warm, tasks[5:6]) {
		t.Fatalf("warm-ups %v, want 5 in the freed slot", warm)
	}
	if v := r.view(); len(v.warmup) != 2 {
		t.Fatalf("warm-ups %v: the cap is 2", v.warmup)
	}

	// b dies: its warm-ups go with it (in the history, as warm-ups), and a
	// takes its tasks back with nothing left to warm.
	r.a.ok(command{Op: opDead, Addr: "b", Incarnation: r.view().members["b"].Incarnation})
	v = r.view()
	if len(v.warmup) != 0 || len(v.standby) != 0 {
		t.Fatalf("a dead member's warm-ups stay: %v %v", v.warmup, v.standby)
	}
	h = r.a.f.history(1)[0]
	if !slices.Contains(h.Moves, TaskMove{Task: tasks[6], From: "b", Standby: true, Warmup: true}) {
		t.Errorf("history %+v does not show the warm-up dropped", h)
	}
	_, asg, warm, _ = split(r.step())
	if len(asg) != 3 || len(warm) != 0 {
		t.Fatalf("after b died: assigned %v warm-ups %v", asg, warm)
	}
	if mv := r.step(); len(mv) != 0 {
		t.Fatalf("moves with one member left: %+v", mv)
	}
}

// A warm-up no longer needed (its task's owner is no longer over its share)
// is dropped; a caught-up standby already on a member with room needs no
// warm-up: the task is released at once.
func TestWarmupDroppedWhenNotNeededAndSkippedWhenCaughtUp(t *testing.T) {
	tasks := testTasks(4)
	v := standbyView([]string{"a", "b"}, map[TaskID]string{tasks[0]: "a", tasks[1]: "a", tasks[2]: "b", tasks[3]: "b"})
	v.stateful = map[TaskID]bool{tasks[0]: true, tasks[1]: true, tasks[2]: true, tasks[3]: true}
	v.maxWarmups = 2
	v.warmup = map[TaskID]string{tasks[1]: "b"}
	v.standby[tasks[1]] = []string{"b"}
	moves, _ := plan(tasks, v, func(TaskID) bool { return true }, nil)
	if len(moves) != 1 || moves[0] != (TaskMove{Task: tasks[1], From: "b", Standby: true, Warmup: true}) {
		t.Fatalf("moves %+v: want the unneeded warm-up dropped", moves)
	}

	// a owns all four, b keeps a caught-up standby of task 3: it is
	// released at once; task 2 gets a warm-up.
	v = standbyView([]string{"a", "b"}, map[TaskID]string{tasks[0]: "a", tasks[1]: "a", tasks[2]: "a", tasks[3]: "a"})
	v.stateful = map[TaskID]bool{tasks[0]: true, tasks[1]: true, tasks[2]: true, tasks[3]: true}
	v.maxWarmups = 2
	v.standby[tasks[3]] = []string{"b"}
	moves, _ = plan(tasks, v, func(TaskID) bool { return true }, func(t TaskID, m string) bool { return t == tasks[3] && m == "b" })
	want := []TaskMove{{Task: tasks[3], From: "a"}, {Task: tasks[2], To: "b", Standby: true, Warmup: true}}
	if !slices.Equal(moves, want) {
		t.Fatalf("moves %+v, want %+v", moves, want)
	}
}
