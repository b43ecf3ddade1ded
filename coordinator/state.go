package coordinator

import (
	"maps"
	"slices"
	"time"
)

// The replicated state's types: members, the assignment and its history,
// the checkpoint log.

// MemberState is a member's liveness as recorded in the log.
type MemberState string

const (
	MemberAlive MemberState = "alive"
	MemberDead  MemberState = "dead"
	MemberLeft  MemberState = "left"
)

// CheckpointState is where a checkpoint is in its life.
type CheckpointState string

const (
	CheckpointInProgress CheckpointState = "started"
	CheckpointComplete   CheckpointState = "complete"
	CheckpointAborted    CheckpointState = "aborted"
)

// member is one replica as the log knows it. Addr (the advertise address,
// also the Raft server ID) is its identity.
type member struct {
	Addr        string      `json:"addr"`
	ID          string      `json:"id"`
	StatusAddr  string      `json:"status_addr,omitempty"`
	State       MemberState `json:"state"`
	JoinedEpoch uint64      `json:"joined_epoch"`
	// Incarnation is the log index of the join that made the member alive;
	// a replica declared dead that joins again gets a new one.
	Incarnation uint64    `json:"incarnation"`
	Since       time.Time `json:"since"`
}

// assignment is who runs which task. A task missing from Owner is
// unassigned; LastOwner and ReleasedAt say who had it last and at which
// epoch it was taken away, so that the leader gives it to someone else only
// once that member has stopped it, and prefers giving it back to that member
// (whose local state is then reused). Standby lists the members that keep a
// warm copy of a stateful task's state (Config.StandbyReplicas), never its
// owner: a standby that becomes the owner leaves the list in the same epoch.
// Warmup marks the standbys that are warm-ups (warmup.go): the member a
// planned move will hand the task to once its copy has caught up.
type assignment struct {
	Epoch      uint64              `json:"epoch"`
	Owner      map[TaskID]string   `json:"owner"`
	LastOwner  map[TaskID]string   `json:"last_owner"`
	ReleasedAt map[TaskID]uint64   `json:"released_at"`
	Standby    map[TaskID][]string `json:"standby,omitempty"`
	Warmup     map[TaskID]string   `json:"warmup,omitempty"`
	History    []AssignmentChange  `json:"history"`
}

// AssignmentChange is one committed change of the assignment.
type AssignmentChange struct {
	Epoch  uint64     `json:"epoch"`
	Time   time.Time  `json:"time"`
	Reason string     `json:"reason"`
	Moves  []TaskMove `json:"moves"`
}

// TaskMove is one task changing owner; "" is nobody. A task moving between
// two live members always takes two changes: From → "" then "" → To. With
// Standby set it moves one of the task's standbys instead (From is dropped,
// To added), which may happen in one step: a standby writes nothing.
// Warmup (with Standby) marks the standby added as a warm-up.
type TaskMove struct {
	Task    TaskID `json:"task"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Standby bool   `json:"standby,omitempty"`
	Warmup  bool   `json:"warmup,omitempty"`
}

// CheckpointAck is what a task reports when its part of a checkpoint is
// durable.
type CheckpointAck struct {
	ManifestRef      string           `json:"manifest_ref"`
	Files            int              `json:"files"`
	Bytes            int64            `json:"bytes"`
	SourceOffsets    map[string]int64 `json:"source_offsets,omitempty"`
	ChangelogOffsets map[string]int64 `json:"changelog_offsets,omitempty"`
	DurationMillis   int64            `json:"duration_ms"`
	// Replica is the member (advertise address) that sent the ack; the
	// coordinator fills it in.
	Replica string `json:"replica,omitempty"`
}

// Checkpoint is one entry of the checkpoint log.
type Checkpoint struct {
	ID       uint64          `json:"id"`
	State    CheckpointState `json:"state"`
	Epoch    uint64          `json:"epoch"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished,omitzero"`
	Expected []TaskID        `json:"expected"`
	// Acks maps TaskID.String() to the task's ack.
	Acks map[string]CheckpointAck `json:"acks"`
	// Expired marks a complete checkpoint older than the newest
	// KeepCheckpoints complete ones: what only it references may be deleted.
	Expired bool   `json:"expired,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// AbortedBy is the replica (advertise address) whose task's part failed
	// and which asked for the abort, and FailedTask that task; both are empty
	// when the leader aborted the checkpoint itself (timeout, assignment
	// change).
	AbortedBy  string `json:"aborted_by,omitempty"`
	FailedTask string `json:"failed_task,omitempty"`
}

// Retained says whether the checkpoint is complete and among the newest
// KeepCheckpoints complete ones.
func (c Checkpoint) Retained() bool { return c.State == CheckpointComplete && !c.Expired }

func (c Checkpoint) clone() Checkpoint {
	c.Expected = slices.Clone(c.Expected)
	c.Acks = maps.Clone(c.Acks)
	return c
}

type checkpointLog struct {
	NextID uint64       `json:"next_id"`
	Log    []Checkpoint `json:"log"`
}

func displayName(m *member) string {
	if m.ID != "" && m.ID != m.Addr {
		return m.ID + " (" + m.Addr + ")"
	}
	return m.Addr
}
