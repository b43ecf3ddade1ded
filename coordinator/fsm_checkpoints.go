package coordinator

import (
	"fmt"
	"slices"
	"time"
)

// applyCheckpointStart opens checkpoint NextID for the tasks of the current
// epoch, unless one is in flight or the epoch moved on.
func (f *fsm) applyCheckpointStart(c *command, eff *effects) applyResult {
	if cp := f.inflight(); cp != nil {
		return applyResult{Err: fmt.Errorf("%w: checkpoint %d", errCheckpointActive, cp.ID)}
	}
	if c.BaseEpoch != f.asg.Epoch {
		return applyResult{Err: fmt.Errorf("%w (epoch %d, decided at %d)", errStaleEpoch, f.asg.Epoch, c.BaseEpoch)}
	}
	cp := Checkpoint{ID: f.ckpt.NextID, State: CheckpointInProgress, Epoch: f.asg.Epoch, Started: c.Time,
		Expected: slices.Clone(c.Expected), Acks: map[string]CheckpointAck{}}
	f.ckpt.NextID++
	f.ckpt.Log = append(f.ckpt.Log, cp)
	eff.started = append(eff.started, cp.clone())
	return applyResult{Checkpoint: cp.ID, Epoch: cp.Epoch}
}

// applyCheckpointAck records one task's part of an in-flight checkpoint, sent
// by the task's owner; the last expected ack completes the checkpoint.
func (f *fsm) applyCheckpointAck(c *command, eff *effects) applyResult {
	cp, err := f.checkpointAt(c.Checkpoint)
	if err != nil {
		return applyResult{Err: err}
	}
	key := c.Task.String()
	if prev, ok := cp.Acks[key]; ok && prev.Replica == c.Addr {
		// A retried ack (the first reached the log, its answer did not).
		return applyResult{Checkpoint: cp.ID, Complete: cp.State == CheckpointComplete}
	}
	if err := f.checkPart(cp, c, "acked"); err != nil {
		return applyResult{Err: err}
	}
	ack := c.Ack
	ack.Replica = c.Addr
	cp.Acks[key] = ack
	if len(cp.Acks) == len(cp.Expected) {
		cp.State = CheckpointComplete
		cp.Finished = c.Time
		f.retain()
		eff.finished = append(eff.finished, cp.clone())
	}
	return applyResult{Checkpoint: cp.ID, Complete: cp.State == CheckpointComplete}
}

// applyCheckpointAbort aborts the in-flight checkpoint: the leader's timeout
// (no Addr), or a replica whose task's part failed (Addr and Task: the
// task's owner reporting the failure at once rather than letting the
// checkpoint time out).
func (f *fsm) applyCheckpointAbort(c *command, eff *effects) applyResult {
	if c.Addr != "" {
		return f.applyReplicaAbort(c, eff)
	}
	cp := f.inflight()
	if cp == nil || cp.ID != c.Checkpoint {
		return applyResult{Err: fmt.Errorf("checkpoint %d is not in flight", c.Checkpoint)}
	}
	f.abort(cp, c.Time, c.Reason, eff)
	return applyResult{Checkpoint: c.Checkpoint}
}

// applyReplicaAbort aborts checkpoint c.Checkpoint because task c.Task's
// part failed on its owner c.Addr. Only the task's owner may, and only while
// the checkpoint is in flight and expects the task; a retried request whose
// first copy already aborted the checkpoint succeeds again.
func (f *fsm) applyReplicaAbort(c *command, eff *effects) applyResult {
	cp, err := f.checkpointAt(c.Checkpoint)
	if err != nil {
		return applyResult{Err: err}
	}
	task := c.Task.String()
	if cp.State == CheckpointAborted && cp.AbortedBy == c.Addr && cp.FailedTask == task {
		return applyResult{Checkpoint: cp.ID}
	}
	if err := f.checkPart(cp, c, "asked to abort"); err != nil {
		return applyResult{Err: err}
	}
	cp.AbortedBy, cp.FailedTask = c.Addr, task
	f.abort(cp, c.Time, fmt.Sprintf("aborted by replica %s: task %s failed: %s", c.Addr, task, c.Reason), eff)
	return applyResult{Checkpoint: cp.ID}
}

// checkpointAt returns the checkpoint id of the log.
func (f *fsm) checkpointAt(id uint64) (*Checkpoint, error) {
	i := f.findCheckpoint(id)
	if i < 0 {
		return nil, fmt.Errorf("checkpoint %d is unknown", id)
	}
	return &f.ckpt.Log[i], nil
}

// checkPart checks that a replica's report (an ack or an abort, did says
// which) of task c.Task's part of cp may be taken: cp is in flight and
// expects the task, and c.Addr owns it.
func (f *fsm) checkPart(cp *Checkpoint, c *command, did string) error {
	if cp.State != CheckpointInProgress {
		return fmt.Errorf("checkpoint %d is %s", cp.ID, cp.State)
	}
	if !slices.Contains(cp.Expected, c.Task) {
		return fmt.Errorf("checkpoint %d does not expect task %s", cp.ID, c.Task)
	}
	if owner := f.asg.Owner[c.Task]; owner != c.Addr {
		return fmt.Errorf("checkpoint %d: task %s is owned by %q, not by %s which %s", cp.ID, c.Task, owner, c.Addr, did)
	}
	return nil
}

func (f *fsm) abort(cp *Checkpoint, t time.Time, reason string, eff *effects) {
	cp.State = CheckpointAborted
	cp.Finished = t
	cp.Reason = reason
	eff.finished = append(eff.finished, cp.clone())
	f.prune()
}

// retain marks all but the newest keep complete checkpoints expired.
func (f *fsm) retain() {
	n := 0
	for i := len(f.ckpt.Log) - 1; i >= 0; i-- {
		cp := &f.ckpt.Log[i]
		if cp.State != CheckpointComplete {
			continue
		}
		n++
		if n > f.keep {
			cp.Expired = true
		}
	}
	f.prune()
}

// prune bounds the log: old entries that are neither retained nor in flight
// go once there are more than maxCheckpointLog.
func (f *fsm) prune() {
	drop := 0
	for drop < len(f.ckpt.Log) && len(f.ckpt.Log)-drop > maxCheckpointLog {
		cp := f.ckpt.Log[drop]
		if cp.Retained() || cp.State == CheckpointInProgress {
			break
		}
		drop++
	}
	if drop > 0 {
		f.ckpt.Log = slices.Delete(f.ckpt.Log, 0, drop)
	}
}

func (f *fsm) inflight() *Checkpoint {
	if n := len(f.ckpt.Log); n > 0 && f.ckpt.Log[n-1].State == CheckpointInProgress {
		return &f.ckpt.Log[n-1]
	}
	return nil
}

func (f *fsm) findCheckpoint(id uint64) int {
	i, ok := slices.BinarySearchFunc(f.ckpt.Log, id, func(c Checkpoint, id uint64) int {
		switch {
		case c.ID < id:
			return -1
		case c.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}
