package coordinator

import (
	"fmt"
	"slices"
	"time"
)

// applyAssign commits the leader's assignment plan, if it was computed from
// the current epoch and every move is still valid: a task leaves its current
// owner for nobody, or goes from nobody to an alive member, never both at
// once.
func (f *fsm) applyAssign(c *command, eff *effects) applyResult {
	if c.BaseEpoch != f.asg.Epoch {
		return applyResult{Err: fmt.Errorf("%w (epoch %d, decided at %d)", errStaleEpoch, f.asg.Epoch, c.BaseEpoch)}
	}
	seen := map[TaskID]bool{}
	for _, mv := range c.Moves {
		if err := f.checkMove(mv, seen); err != nil {
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

// commitMoves applies validated moves as one new epoch.
func (f *fsm) commitMoves(t time.Time, reason string, moves []TaskMove, eff *effects) {
	f.asg.Epoch++
	for _, mv := range moves {
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
	// complete consistently across a change of owners.
	if cp := f.inflight(); cp != nil {
		f.abort(cp, t, fmt.Sprintf("assignment changed (epoch %d)", f.asg.Epoch), eff)
	}
}
