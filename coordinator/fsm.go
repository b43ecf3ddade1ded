package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The replicated state machine. The leader decides (who is dead, where a
// task goes, when a checkpoint starts) and writes each decision as a command
// into the Raft log; every replica applies the committed commands in the same
// order to the same state. Apply re-checks each command against the state it
// applies to (an assignment names the epoch it was computed from, a death
// names the incarnation it saw), so a decision made on a view that is no
// longer current is rejected rather than applied.
//
// Files: state.go (the state's types), fsm.go (commands and Apply),
// fsm_members.go, fsm_assign.go, fsm_checkpoints.go (one apply method per
// command), fsm_read.go (copies for the leader and status), fsm_snapshot.go.

const (
	maxAssignmentHistory = 200 // entries kept in the FSM
	maxCheckpointLog     = 100 // entries kept besides the retained ones
)

// command is one log entry. Op selects which fields matter.
type command struct {
	Op          string        `json:"op"`
	Time        time.Time     `json:"time"`
	Addr        string        `json:"addr,omitempty"`
	ID          string        `json:"id,omitempty"`
	StatusAddr  string        `json:"status_addr,omitempty"`
	Incarnation uint64        `json:"incarnation,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	BaseEpoch   uint64        `json:"base_epoch,omitempty"`
	Moves       []TaskMove    `json:"moves,omitempty"`
	Checkpoint  uint64        `json:"checkpoint,omitempty"`
	Expected    []TaskID      `json:"expected,omitempty"`
	Task        TaskID        `json:"task"`
	Ack         CheckpointAck `json:"ack"`
}

const (
	opJoin      = "join"
	opDead      = "dead"
	opLeave     = "leave"
	opAssign    = "assign"
	opCkptStart = "checkpoint_start"
	opCkptAck   = "checkpoint_ack"
	opCkptAbort = "checkpoint_abort"
)

// applyResult is what Apply returns to the leader that proposed the command.
type applyResult struct {
	Err         error
	Incarnation uint64
	Epoch       uint64
	Checkpoint  uint64
	Complete    bool
}

var (
	errStaleEpoch       = errors.New("assignment changed since the decision was made")
	errCheckpointActive = errors.New("a checkpoint is in flight")
)

// effects tells the node what an applied command changed, for its events.
type effects struct {
	assignment bool
	started    []Checkpoint
	finished   []Checkpoint
	members    bool
}

type fsm struct {
	tasks   []TaskID // sorted
	taskSet map[TaskID]bool
	keep    int
	notify  func(effects) // called after each apply and restore, on Raft's FSM goroutine

	mu      sync.RWMutex
	members map[string]*member
	asg     assignment
	ckpt    checkpointLog
}

func newFSM(tasks []TaskID, keep int) *fsm {
	f := &fsm{tasks: slices.Clone(tasks), taskSet: map[TaskID]bool{}, keep: keep}
	slices.SortFunc(f.tasks, compareTasks)
	for _, t := range tasks {
		f.taskSet[t] = true
	}
	f.reset()
	return f
}

func (f *fsm) reset() {
	f.members = map[string]*member{}
	f.asg = assignment{Owner: map[TaskID]string{}, LastOwner: map[TaskID]string{}, ReleasedAt: map[TaskID]uint64{},
		Standby: map[TaskID][]string{}, Warmup: map[TaskID]string{}}
	f.ckpt = checkpointLog{NextID: 1}
}

var _ raft.FSM = (*fsm)(nil)

// Apply applies one committed log entry.
func (f *fsm) Apply(l *raft.Log) any {
	var c command
	if err := json.Unmarshal(l.Data, &c); err != nil {
		return applyResult{Err: fmt.Errorf("decode command at index %d: %w", l.Index, err)}
	}
	f.mu.Lock()
	res, eff := f.apply(l.Index, &c)
	f.mu.Unlock()
	if f.notify != nil {
		f.notify(eff)
	}
	return res
}

func (f *fsm) apply(index uint64, c *command) (applyResult, effects) {
	var eff effects
	var res applyResult
	switch c.Op {
	case opJoin:
		res = f.applyJoin(index, c, &eff)
	case opDead:
		res = f.applyDead(c, &eff)
	case opLeave:
		res = f.applyLeave(c, &eff)
	case opAssign:
		res = f.applyAssign(c, &eff)
	case opCkptStart:
		res = f.applyCheckpointStart(c, &eff)
	case opCkptAck:
		res = f.applyCheckpointAck(c, &eff)
	case opCkptAbort:
		res = f.applyCheckpointAbort(c, &eff)
	default:
		res = applyResult{Err: fmt.Errorf("unknown command %q", c.Op)}
	}
	return res, eff
}
