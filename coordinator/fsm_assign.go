package coordinator

import (
	"fmt"
	"slices"
	"time"
)

// applyAssign commits the leader's assignment plan, if it was computed from
// the current epoch and every move is still valid: a task leaves its current
// owner for nobody, or goes from nobody to an alive member, never both at
// once; a standby moves from one of the task's standbys to an alive member
// that neither owns nor keeps a standby of it.
func (f *fsm) applyAssign(c *command, eff *effects) applyResult {
	if c.BaseEpoch != f.asg.Epoch {
		return applyResult{Err: fmt.Errorf("%w (epoch %d, decided at %d)", errStaleEpoch, f.asg.Epoch, c.BaseEpoch)}
	}
	seen := map[TaskID]bool{}
	standby := cloneStandby(f.asg.Standby) // as the standby moves before each leave it
	for _, mv := range c.Moves {
		check := f.checkMove
		if mv.Standby {
			check = func(mv TaskMove, _ map[TaskID]bool) error { return f.checkStandbyMove(mv, standby) }
		}
		if err := check(mv, seen); err != nil {
			return applyResult{Err: err}
		}
	}
	if len(c.Moves) > 0 {
		f.commitMoves(c.Time, c.Reason, c.Moves, eff)
	}
	return applyResult{Epoch: f.asg.Epoch}
}

func (f *fsm) checkMove(mv TaskMove, seen map[TaskID]bool) error {
	if !f.taskSet[mv.Task] {
		return fmt.Errorf("assignment names unknown task %s", mv.Task)
	}
	if seen[mv.Task] {
		return fmt.Errorf("assignment moves task %s twice", mv.Task)
	}
	seen[mv.Task] = true
	if cur := f.asg.Owner[mv.Task]; cur != mv.From {
		return fmt.Errorf("%w: task %s is owned by %q, not %q", errStaleEpoch, mv.Task, cur, mv.From)
	}
	if mv.To != "" {
		if m := f.members[mv.To]; m == nil || m.State != MemberAlive {
			return fmt.Errorf("%w: task %s cannot go to %s, which is not alive", errStaleEpoch, mv.Task, mv.To)
		}
	}
	if mv.From != "" && mv.To != "" {
		return fmt.Errorf("task %s cannot move from %s to %s in one step", mv.Task, mv.From, mv.To)
	}
	return nil
}

// checkStandbyMove checks a standby move against standby, the standbys as
// the moves before it in the same command leave them, and applies it there.
func (f *fsm) checkStandbyMove(mv TaskMove, standby map[TaskID][]string) error {
	if !f.taskSet[mv.Task] {
		return fmt.Errorf("assignment names unknown task %s", mv.Task)
	}
	cur := standby[mv.Task]
	if mv.From == "" && mv.To == "" {
		return fmt.Errorf("standby move of task %s names nobody", mv.Task)
	}
	if mv.From != "" && !slices.Contains(cur, mv.From) {
		return fmt.Errorf("%w: %s keeps no standby of task %s", errStaleEpoch, mv.From, mv.Task)
	}
	cur = slices.DeleteFunc(slices.Clone(cur), func(s string) bool { return s == mv.From })
	if mv.To != "" {
		if m := f.members[mv.To]; m == nil || m.State != MemberAlive {
			return fmt.Errorf("%w: a standby of task %s cannot go to %s, which is not alive", errStaleEpoch, mv.Task, mv.To)
		}
		if f.asg.Owner[mv.Task] == mv.To || slices.Contains(cur, mv.To) {
			return fmt.Errorf("%w: %s already owns or keeps a standby of task %s", errStaleEpoch, mv.To, mv.Task)
		}
		cur = append(cur, mv.To)
	}
	standby[mv.Task] = cur
	return nil
}

// commitMoves applies validated moves as one new epoch. A member given a
// task it kept a standby of stops being a standby of it (the standby is
// promoted).
func (f *fsm) commitMoves(t time.Time, reason string, moves []TaskMove, eff *effects) {
	f.asg.Epoch++
	for _, mv := range moves {
		if mv.Standby {
			f.moveStandby(mv)
			continue
		}
		if mv.To != "" {
			f.moveStandby(TaskMove{Task: mv.Task, From: mv.To})
		}
		if mv.To == "" {
			delete(f.asg.Owner, mv.Task)
			if mv.From != "" {
				f.asg.LastOwner[mv.Task] = mv.From
				f.asg.ReleasedAt[mv.Task] = f.asg.Epoch
			}
		} else {
			f.asg.Owner[mv.Task] = mv.To
		}
	}
	f.asg.History = append(f.asg.History, AssignmentChange{Epoch: f.asg.Epoch, Time: t, Reason: reason, Moves: slices.Clone(moves)})
	if n := len(f.asg.History) - maxAssignmentHistory; n > 0 {
		f.asg.History = slices.Delete(f.asg.History, 0, n)
	}
	eff.assignment = true
	// The tasks of an in-flight checkpoint were fixed at its epoch; it cannot
	// complete consistently across a change of owners (standbys take no part).
	owners := slices.ContainsFunc(moves, func(mv TaskMove) bool { return !mv.Standby })
	if cp := f.inflight(); cp != nil && owners {
		f.abort(cp, t, fmt.Sprintf("assignment changed (epoch %d)", f.asg.Epoch), eff)
	}
}

// moveStandby drops mv.From from the task's standbys (if there) and adds
// mv.To (if any), as a warm-up if mv.Warmup.
func (f *fsm) moveStandby(mv TaskMove) {
	s := slices.DeleteFunc(slices.Clone(f.asg.Standby[mv.Task]), func(a string) bool { return a == mv.From })
	if mv.To != "" && !slices.Contains(s, mv.To) {
		s = append(s, mv.To)
	}
	if f.asg.Warmup[mv.Task] == mv.From && mv.From != "" {
		delete(f.asg.Warmup, mv.Task) // dropped or promoted
	}
	if mv.Warmup && mv.To != "" {
		f.asg.Warmup[mv.Task] = mv.To
	}
	if len(s) == 0 {
		delete(f.asg.Standby, mv.Task)
		return
	}
	f.asg.Standby[mv.Task] = s
}
