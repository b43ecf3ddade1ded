package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The checkpoint API the engine uses: the log, a task's retained acks,
// acking its part or reporting that it failed, forcing a checkpoint.

// Checkpoints returns the checkpoint log, oldest first.
func (n *Node) Checkpoints() []Checkpoint { return n.fsm.checkpoints() }

// TaskCheckpoint is one retained checkpoint's ack for one task.
type TaskCheckpoint struct {
	ID       uint64    `json:"id"`
	Finished time.Time `json:"finished"`
	CheckpointAck
}

// LatestComplete returns task's acks in the retained complete checkpoints,
// newest first.
func (n *Node) LatestComplete(task TaskID) []TaskCheckpoint {
	cps := n.fsm.checkpoints()
	key := task.String()
	var out []TaskCheckpoint
	for i := len(cps) - 1; i >= 0; i-- {
		cp := cps[i]
		if !cp.Retained() {
			continue
		}
		if ack, ok := cp.Acks[key]; ok {
			out = append(out, TaskCheckpoint{ID: cp.ID, Finished: cp.Finished, CheckpointAck: ack})
		}
	}
	return out
}

// ErrCheckpointRejected wraps the leader's refusal of an ack (the checkpoint
// was aborted or already finished, or the task is not this replica's).
var ErrCheckpointRejected = errors.New("checkpoint ack rejected")

// AckCheckpoint reports that task's part of checkpoint id is durable. It
// retries until the leader has applied it, refused it, or ctx ends.
func (n *Node) AckCheckpoint(ctx context.Context, id uint64, task TaskID, ack CheckpointAck) error {
	return n.sendAck(ctx, ackRequest{Addr: n.addr, Checkpoint: id, Task: task, Ack: ack}, "ack")
}

// AbortCheckpoint reports that task's part of checkpoint id failed (reason
// says how): the leader aborts the checkpoint at once, rather than after
// Config.CheckpointTimeout, and the next one starts on schedule. It takes
// the acks' path and retries as AckCheckpoint does; ErrCheckpointRejected
// means the checkpoint was no longer in flight (or the task is not this
// replica's).
func (n *Node) AbortCheckpoint(ctx context.Context, id uint64, task TaskID, reason string) error {
	if reason == "" {
		reason = "no reason given"
	}
	return n.sendAck(ctx, ackRequest{Addr: n.addr, Checkpoint: id, Task: task, Error: reason}, "abort")
}

func (n *Node) sendAck(ctx context.Context, req ackRequest, what string) error {
	var resp ackResponse
	err := n.callLeader(ctx, pathAck, req, &resp)
	if err != nil && !retryable(err) {
		return fmt.Errorf("%w: %s of checkpoint %d task %s: %v", ErrCheckpointRejected, what, req.Checkpoint, req.Task, err)
	}
	if err != nil {
		return fmt.Errorf("%s checkpoint %d task %s: %w", what, req.Checkpoint, req.Task, err)
	}
	return nil
}

// ForceCheckpoint starts a checkpoint now (through the leader) and returns
// its id. It fails if one is in flight.
func (n *Node) ForceCheckpoint(ctx context.Context) (uint64, error) {
	var resp startResponse
	if err := n.callLeader(ctx, pathStart, struct{}{}, &resp); err != nil {
		return 0, fmt.Errorf("start checkpoint: %w", err)
	}
	return resp.Checkpoint, nil
}
