package coordinator

import (
	"slices"
	"testing"
	"time"
)

// applyStandbys applies standby moves to v as the FSM would.
func applyStandbys(v view, moves []TaskMove) {
	for _, mv := range moves {
		s := slices.DeleteFunc(v.standby[mv.Task], func(a string) bool { return a == mv.From })
		if mv.To != "" {
			s = append(s, mv.To)
		}
		v.standby[mv.Task] = s
	}
}

func standbyView(alive []string, owner map[TaskID]string) view {
	v := planView(alive, owner, nil)
	v.standby = map[TaskID][]string{}
	return v
}

func TestPlanStandbysPlacesBalancedAndSticky(t *testing.T) {
	tasks := testTasks(6)
	owner := map[TaskID]string{}
	for i, task := range tasks {
		owner[task] = []string{"a", "b", "c"}[i%3]
	}
	v := standbyView([]string{"a", "b", "c"}, owner)
	moves := planStandbys(tasks, v, 1)
	if len(moves) != 6 {
		t.Fatalf("moves %+v", moves)
	}
	applyStandbys(v, moves)
	keeps := map[string]int{}
	for _, task := range tasks {
		ss := v.standby[task]
		if len(ss) != 1 || ss[0] == owner[task] {
			t.Fatalf("task %s: standbys %v, owner %s", task, ss, owner[task])
		}
		keeps[ss[0]]++
	}
	if keeps["a"] != 2 || keeps["b"] != 2 || keeps["c"] != 2 {
		t.Errorf("standbys per member %v, want 2 each", keeps)
	}
	if again := planStandbys(tasks, v, 1); len(again) != 0 {
		t.Errorf("a placed assignment moves again: %+v", again)
	}

	// Two standbys each: the existing ones stay, one more each (only two
	// other members exist, so never more).
	before := cloneStandby(v.standby)
	applyStandbys(v, planStandbys(tasks, v, 2))
	for _, task := range tasks {
		if ss := v.standby[task]; len(ss) != 2 || ss[0] != before[task][0] || slices.Contains(ss, owner[task]) {
			t.Errorf("task %s: %v (had %v)", task, ss, before[task])
		}
	}
	if mv := planStandbys(tasks, v, 5); len(mv) != 0 {
		t.Errorf("more standbys than other members: %+v", mv)
	}
	// Back to one: the newer goes, the older stays.
	applyStandbys(v, planStandbys(tasks, v, 1))
	for _, task := range tasks {
		if !slices.Equal(v.standby[task], before[task]) {
			t.Errorf("task %s: %v, want %v", task, v.standby[task], before[task])
		}
	}
}

func TestPlanStandbysReplacesDeadAndPrefersLastOwner(t *testing.T) {
	tasks := testTasks(2)
	v := standbyView([]string{"a", "b", "c", "d"}, map[TaskID]string{tasks[0]: "a", tasks[1]: "b"})
	v.members["c"] = member{Addr: "c", State: MemberDead}
	v.standby[tasks[0]] = []string{"c"}
	v.standby[tasks[1]] = []string{"a"}
	v.lastOwner[tasks[0]] = "b" // its state is still on b
	moves := planStandbys(tasks, v, 1)
	applyStandbys(v, moves)
	if got := v.standby[tasks[0]]; !slices.Equal(got, []string{"b"}) {
		t.Errorf("task 0: standbys %v, want the last owner b (moves %+v)", got, moves)
	}
	if got := v.standby[tasks[1]]; !slices.Equal(got, []string{"a"}) {
		t.Errorf("task 1: standbys %v, want a kept", got)
	}
	// A task without an owner gets none added, and a stateless task none.
	v = standbyView([]string{"a", "b"}, map[TaskID]string{tasks[1]: "a"})
	if mv := planStandbys(tasks[:1], v, 1); len(mv) != 0 {
		t.Errorf("standby for an unowned or stateless task: %+v", mv)
	}
}

func TestPlanPromotesCaughtUpStandby(t *testing.T) {
	tasks := testTasks(4)
	// a died owning tasks 0 and 1; b keeps standbys of both, c of none; b
	// owns task 2, c task 3.
	v := standbyView([]string{"b", "c"}, map[TaskID]string{tasks[2]: "b", tasks[3]: "c"})
	v.members["a"] = member{Addr: "a", State: MemberDead}
	v.lastOwner[tasks[0]], v.lastOwner[tasks[1]] = "a", "a"
	v.standby[tasks[1]] = []string{"b"}
	caught := map[TaskID]bool{tasks[1]: true}
	caughtUp := func(t TaskID, m string) bool { return m == "b" && caught[t] }
	moves, _ := plan(tasks, v, func(TaskID) bool { return true }, caughtUp)
	to := map[TaskID]string{}
	for _, mv := range moves {
		to[mv.Task] = mv.To
	}
	if to[tasks[1]] != "b" || to[tasks[0]] != "c" {
		t.Errorf("moves %+v: want task 1 to its caught-up standby b, task 0 to c", moves)
	}
	// A standby that is behind is no reason: least loaded wins (b and c tie
	// at one task each, the first in order gets task 0, c task 1).
	caught[tasks[1]] = false
	moves, _ = plan(tasks, v, func(TaskID) bool { return true }, caughtUp)
	for _, mv := range moves {
		to[mv.Task] = mv.To
	}
	if to[tasks[0]] != "b" || to[tasks[1]] != "c" {
		t.Errorf("moves %+v without a caught-up standby", moves)
	}
	// A last owner that is alive keeps precedence (its state is the freshest).
	v.members["a"] = member{Addr: "a", State: MemberAlive}
	v.owner[tasks[0]] = "c"
	caught[tasks[1]] = true
	moves, _ = plan(tasks, v, func(TaskID) bool { return true }, caughtUp)
	for _, mv := range moves {
		if mv.Task == tasks[1] && mv.To != "a" {
			t.Errorf("task 1 went to %s, not back to its live last owner a", mv.To)
		}
	}
}

func TestFSMStandbys(t *testing.T) {
	tasks := testTasks(2)
	a := &applier{t: t, f: newFSM(tasks, 2), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, m := range []string{"a", "b", "c"} {
		a.ok(command{Op: opJoin, Addr: m})
	}
	a.ok(command{Op: opAssign, BaseEpoch: 0, Moves: []TaskMove{{Task: tasks[0], To: "a"}, {Task: tasks[1], To: "b"}}})
	for _, bad := range [][]TaskMove{
		{{Task: tasks[0], To: "a", Standby: true}},                                           // its owner
		{{Task: tasks[0], To: "x", Standby: true}},                                           // not a member
		{{Task: tasks[0], From: "c", Standby: true}},                                         // keeps none
		{{Task: tasks[0], To: "b", Standby: true}, {Task: tasks[0], To: "b", Standby: true}}, // twice
	} {
		if res := a.do(command{Op: opAssign, BaseEpoch: 1, Moves: bad}); res.Err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	a.ok(command{Op: opAssign, BaseEpoch: 1, Moves: []TaskMove{{Task: tasks[0], To: "b", Standby: true}, {Task: tasks[1], To: "c", Standby: true}}})
	if got := a.f.standbys("b"); !slices.Equal(got, tasks[:1]) {
		t.Fatalf("b keeps standbys of %v", got)
	}
	// a dies: task 0 is freed, and c's standby of task 1 stays.
	a.ok(command{Op: opDead, Addr: "a", Incarnation: 1})
	// b is given task 0: its standby of it is promoted (dropped).
	a.ok(command{Op: opAssign, BaseEpoch: 3, Moves: []TaskMove{{Task: tasks[0], To: "b"}}})
	v := a.f.view()
	if len(v.standby[tasks[0]]) != 0 || !slices.Equal(v.standby[tasks[1]], []string{"c"}) {
		t.Errorf("standbys after promotion: %v", v.standby)
	}
	// c dies: its standby goes, in the history.
	a.ok(command{Op: opDead, Addr: "c", Incarnation: 3})
	v = a.f.view()
	if len(v.standby) != 0 {
		t.Errorf("a dead member's standbys stay: %v", v.standby)
	}
	h := a.f.history(1)[0]
	if !slices.Contains(h.Moves, TaskMove{Task: tasks[1], From: "c", Standby: true}) {
		t.Errorf("history %+v does not show the standby dropped", h)
	}
}

// A caught-up standby takes its task even beyond its share; the next plan
// releases a stateless task from it, not the promoted one.
func TestPlanPromotesBeyondShareThenReleasesStateless(t *testing.T) {
	tasks := testTasks(4) // 0 and 1 stateless here, 2 and 3 stateful
	v := standbyView([]string{"b", "c"}, map[TaskID]string{tasks[0]: "b", tasks[1]: "b", tasks[2]: "c"})
	v.members["a"] = member{Addr: "a", State: MemberDead}
	v.lastOwner[tasks[3]] = "a"
	v.standby[tasks[3]] = []string{"b"}
	v.standby[tasks[2]] = []string{"b"}
	v.stateful = map[TaskID]bool{tasks[2]: true, tasks[3]: true}
	moves, _ := plan(tasks, v, func(TaskID) bool { return true }, func(TaskID, string) bool { return true })
	if len(moves) != 1 || moves[0] != (TaskMove{Task: tasks[3], To: "b"}) {
		t.Fatalf("moves %+v: want task 3 to b, its caught-up standby, beyond b's share of 2", moves)
	}
	v.owner[tasks[3]] = "b"
	v.standby[tasks[3]] = nil
	moves, _ = plan(tasks, v, func(TaskID) bool { return true }, nil)
	if len(moves) != 1 || moves[0].From != "b" || moves[0].Task == tasks[3] {
		t.Fatalf("moves %+v: want a stateless task released from b", moves)
	}
}
