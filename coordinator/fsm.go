package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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

const (
	maxAssignmentHistory = 200 // entries kept in the FSM
	maxCheckpointLog     = 100 // entries kept besides the retained ones
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
// (whose local state is then reused).
type assignment struct {
	Epoch      uint64             `json:"epoch"`
	Owner      map[TaskID]string  `json:"owner"`
	LastOwner  map[TaskID]string  `json:"last_owner"`
	ReleasedAt map[TaskID]uint64  `json:"released_at"`
	History    []AssignmentChange `json:"history"`
}

// AssignmentChange is one committed change of the assignment.
type AssignmentChange struct {
	Epoch  uint64     `json:"epoch"`
	Time   time.Time  `json:"time"`
	Reason string     `json:"reason"`
	Moves  []TaskMove `json:"moves"`
}

// TaskMove is one task changing owner; "" is nobody. A task moving between
// two live members always takes two changes: From → "" then "" → To.
type TaskMove struct {
	Task TaskID `json:"task"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
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
	f.asg = assignment{Owner: map[TaskID]string{}, LastOwner: map[TaskID]string{}, ReleasedAt: map[TaskID]uint64{}}
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
	switch c.Op {
	case opJoin:
		m := f.members[c.Addr]
		if m != nil && m.State == MemberAlive {
			// A retried join, or a replica that restarted before it was
			// declared dead: the same member, nothing changes.
			if m.ID != c.ID || m.StatusAddr != c.StatusAddr {
				m.ID, m.StatusAddr = c.ID, c.StatusAddr
				eff.members = true
			}
			return applyResult{Incarnation: m.Incarnation, Epoch: f.asg.Epoch}, eff
		}
		f.members[c.Addr] = &member{Addr: c.Addr, ID: c.ID, StatusAddr: c.StatusAddr, State: MemberAlive,
			JoinedEpoch: f.asg.Epoch, Incarnation: index, Since: c.Time}
		eff.members = true
		return applyResult{Incarnation: index, Epoch: f.asg.Epoch}, eff

	case opDead, opLeave:
		m := f.members[c.Addr]
		if m == nil {
			if c.Op == opLeave {
				return applyResult{Epoch: f.asg.Epoch}, eff // never joined: nothing to leave
			}
			return applyResult{Err: fmt.Errorf("member %s is unknown", c.Addr)}, eff
		}
		if c.Op == opDead && (m.State != MemberAlive || (c.Incarnation != 0 && c.Incarnation != m.Incarnation)) {
			return applyResult{Err: fmt.Errorf("member %s is %s (incarnation %d), not the incarnation %d declared dead", c.Addr, m.State, m.Incarnation, c.Incarnation)}, eff
		}
		if c.Op == opLeave && m.State == MemberLeft {
			return applyResult{Epoch: f.asg.Epoch}, eff
		}
		m.State = MemberDead
		why := "declared dead: " + c.Reason
		if c.Op == opLeave {
			m.State = MemberLeft
			why = "left"
		}
		m.Since = c.Time
		eff.members = true
		var moves []TaskMove
		for _, t := range f.tasks {
			if f.asg.Owner[t] == c.Addr {
				moves = append(moves, TaskMove{Task: t, From: c.Addr})
			}
		}
		if len(moves) > 0 {
			f.commitMoves(c.Time, fmt.Sprintf("%s %s", displayName(m), why), moves, &eff)
		}
		return applyResult{Epoch: f.asg.Epoch}, eff

	case opAssign:
		if c.BaseEpoch != f.asg.Epoch {
			return applyResult{Err: fmt.Errorf("%w (epoch %d, decided at %d)", errStaleEpoch, f.asg.Epoch, c.BaseEpoch)}, eff
		}
		seen := map[TaskID]bool{}
		for _, mv := range c.Moves {
			if !f.taskSet[mv.Task] {
				return applyResult{Err: fmt.Errorf("assignment names unknown task %s", mv.Task)}, eff
			}
			if seen[mv.Task] {
				return applyResult{Err: fmt.Errorf("assignment moves task %s twice", mv.Task)}, eff
			}
			seen[mv.Task] = true
			if cur := f.asg.Owner[mv.Task]; cur != mv.From {
				return applyResult{Err: fmt.Errorf("%w: task %s is owned by %q, not %q", errStaleEpoch, mv.Task, cur, mv.From)}, eff
			}
			if mv.To != "" {
				if m := f.members[mv.To]; m == nil || m.State != MemberAlive {
					return applyResult{Err: fmt.Errorf("%w: task %s cannot go to %s, which is not alive", errStaleEpoch, mv.Task, mv.To)}, eff
				}
			}
			if mv.From != "" && mv.To != "" {
				return applyResult{Err: fmt.Errorf("task %s cannot move from %s to %s in one step", mv.Task, mv.From, mv.To)}, eff
			}
		}
		if len(c.Moves) > 0 {
			f.commitMoves(c.Time, c.Reason, c.Moves, &eff)
		}
		return applyResult{Epoch: f.asg.Epoch}, eff

	case opCkptStart:
		if cp := f.inflight(); cp != nil {
			return applyResult{Err: fmt.Errorf("%w: checkpoint %d", errCheckpointActive, cp.ID)}, eff
		}
		if c.BaseEpoch != f.asg.Epoch {
			return applyResult{Err: fmt.Errorf("%w (epoch %d, decided at %d)", errStaleEpoch, f.asg.Epoch, c.BaseEpoch)}, eff
		}
		cp := Checkpoint{ID: f.ckpt.NextID, State: CheckpointInProgress, Epoch: f.asg.Epoch, Started: c.Time,
			Expected: slices.Clone(c.Expected), Acks: map[string]CheckpointAck{}}
		f.ckpt.NextID++
		f.ckpt.Log = append(f.ckpt.Log, cp)
		eff.started = append(eff.started, cp.clone())
		return applyResult{Checkpoint: cp.ID, Epoch: cp.Epoch}, eff

	case opCkptAck:
		i := f.findCheckpoint(c.Checkpoint)
		if i < 0 {
			return applyResult{Err: fmt.Errorf("checkpoint %d is unknown", c.Checkpoint)}, eff
		}
		cp := &f.ckpt.Log[i]
		key := c.Task.String()
		if prev, ok := cp.Acks[key]; ok && prev.Replica == c.Addr {
			// A retried ack (the first reached the log, its answer did not).
			return applyResult{Checkpoint: cp.ID, Complete: cp.State == CheckpointComplete}, eff
		}
		if cp.State != CheckpointInProgress {
			return applyResult{Err: fmt.Errorf("checkpoint %d is %s", cp.ID, cp.State)}, eff
		}
		if !slices.Contains(cp.Expected, c.Task) {
			return applyResult{Err: fmt.Errorf("checkpoint %d does not expect task %s", cp.ID, c.Task)}, eff
		}
		if owner := f.asg.Owner[c.Task]; owner != c.Addr {
			return applyResult{Err: fmt.Errorf("checkpoint %d: task %s is owned by %q, not by %s which acked", cp.ID, c.Task, owner, c.Addr)}, eff
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
		return applyResult{Checkpoint: cp.ID, Complete: cp.State == CheckpointComplete}, eff

	case opCkptAbort:
		cp := f.inflight()
		if cp == nil || cp.ID != c.Checkpoint {
			return applyResult{Err: fmt.Errorf("checkpoint %d is not in flight", c.Checkpoint)}, eff
		}
		f.abort(cp, c.Time, c.Reason, &eff)
		return applyResult{Checkpoint: c.Checkpoint}, eff
	}
	return applyResult{Err: fmt.Errorf("unknown command %q", c.Op)}, eff
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

func displayName(m *member) string {
	if m.ID != "" && m.ID != m.Addr {
		return m.ID + " (" + m.Addr + ")"
	}
	return m.Addr
}

// ---- reading the state ----

// view is a copy of the state for decisions and status.
type view struct {
	members    map[string]member
	epoch      uint64
	owner      map[TaskID]string
	lastOwner  map[TaskID]string
	releasedAt map[TaskID]uint64
	inflight   *Checkpoint
}

func (f *fsm) view() view {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v := view{members: make(map[string]member, len(f.members)), epoch: f.asg.Epoch,
		owner: maps.Clone(f.asg.Owner), lastOwner: maps.Clone(f.asg.LastOwner), releasedAt: maps.Clone(f.asg.ReleasedAt)}
	for k, m := range f.members {
		v.members[k] = *m
	}
	if cp := f.inflight(); cp != nil {
		c := cp.clone()
		v.inflight = &c
	}
	return v
}

// mine returns the tasks owned by addr and the epoch.
func (f *fsm) mine(addr string) ([]TaskID, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []TaskID
	for _, t := range f.tasks {
		if f.asg.Owner[t] == addr {
			out = append(out, t)
		}
	}
	return out, f.asg.Epoch
}

func (f *fsm) member(addr string) (member, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.members[addr]
	if !ok {
		return member{}, false
	}
	return *m, true
}

func (f *fsm) checkpoints() []Checkpoint {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Checkpoint, len(f.ckpt.Log))
	for i, cp := range f.ckpt.Log {
		out[i] = cp.clone()
	}
	return out
}

func (f *fsm) history(n int) []AssignmentChange {
	f.mu.RLock()
	defer f.mu.RUnlock()
	h := f.asg.History
	if len(h) > n {
		h = h[len(h)-n:]
	}
	return slices.Clone(h)
}

// ---- snapshots ----

// A snapshot is a header and named sections, each a length-prefixed JSON
// document, written one after the other to Raft's snapshot sink:
//
//	"GOFKACO" version(1 byte)
//	{ nameLen(1 byte) name payloadLen(8 bytes, big endian) payload }...
//	0 (a zero name length ends the snapshot)
//
// Restore skips sections it does not know, so a newer writer can add some.
const (
	snapshotMagic   = "GOFKACO"
	snapshotVersion = 1
	maxSectionBytes = 1 << 30
)

type fsmSnapshot struct {
	members []member
	asg     assignment
	ckpt    checkpointLog
}

// Snapshot copies the state; Persist encodes it while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := &fsmSnapshot{
		asg: assignment{Epoch: f.asg.Epoch, Owner: maps.Clone(f.asg.Owner), LastOwner: maps.Clone(f.asg.LastOwner),
			ReleasedAt: maps.Clone(f.asg.ReleasedAt), History: slices.Clone(f.asg.History)},
		ckpt: checkpointLog{NextID: f.ckpt.NextID, Log: make([]Checkpoint, len(f.ckpt.Log))},
	}
	for _, m := range f.members {
		s.members = append(s.members, *m)
	}
	slices.SortFunc(s.members, func(a, b member) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	for i, cp := range f.ckpt.Log {
		s.ckpt.Log[i] = cp.clone()
	}
	return s, nil
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("write coordinator snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	if _, err := w.Write(append([]byte(snapshotMagic), snapshotVersion)); err != nil {
		return err
	}
	for _, sec := range []struct {
		name string
		v    any
	}{{"members", s.members}, {"assignment", s.asg}, {"checkpoints", s.ckpt}} {
		if err := writeSection(w, sec.name, sec.v); err != nil {
			return fmt.Errorf("section %s: %w", sec.name, err)
		}
	}
	_, err := w.Write([]byte{0})
	return err
}

func writeSection(w io.Writer, name string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hdr := make([]byte, 0, 1+len(name)+8)
	hdr = append(hdr, byte(len(name)))
	hdr = append(hdr, name...)
	n := uint64(len(payload))
	hdr = append(hdr, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = w.Write(payload)
	return err
}

func (s *fsmSnapshot) Release() {}

// Restore replaces the state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	s, err := readSnapshot(rc)
	if err != nil {
		return fmt.Errorf("restore coordinator snapshot: %w", err)
	}
	f.mu.Lock()
	f.reset()
	for _, m := range s.members {
		m := m
		f.members[m.Addr] = &m
	}
	f.asg.Epoch = s.asg.Epoch
	f.asg.History = s.asg.History
	maps.Copy(f.asg.Owner, s.asg.Owner)
	maps.Copy(f.asg.LastOwner, s.asg.LastOwner)
	maps.Copy(f.asg.ReleasedAt, s.asg.ReleasedAt)
	if s.ckpt.NextID > 0 {
		f.ckpt = s.ckpt
	}
	for i := range f.ckpt.Log {
		if f.ckpt.Log[i].Acks == nil {
			f.ckpt.Log[i].Acks = map[string]CheckpointAck{}
		}
	}
	f.mu.Unlock()
	if f.notify != nil {
		f.notify(effects{assignment: true, members: true})
	}
	return nil
}

func readSnapshot(r io.Reader) (*fsmSnapshot, error) {
	hdr := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(hdr[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not a coordinator snapshot (bad magic)")
	}
	if v := hdr[len(snapshotMagic)]; v != snapshotVersion {
		return nil, fmt.Errorf("snapshot version %d; this build reads version %d", v, snapshotVersion)
	}
	s := &fsmSnapshot{}
	for {
		var nl [1]byte
		if _, err := io.ReadFull(r, nl[:]); err != nil {
			return nil, fmt.Errorf("read section name: %w (snapshot truncated?)", err)
		}
		if nl[0] == 0 {
			return s, nil
		}
		name := make([]byte, nl[0])
		var ln [8]byte
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, fmt.Errorf("read section name: %w", err)
		}
		if _, err := io.ReadFull(r, ln[:]); err != nil {
			return nil, fmt.Errorf("section %s: read length: %w", name, err)
		}
		n := uint64(ln[0])<<56 | uint64(ln[1])<<48 | uint64(ln[2])<<40 | uint64(ln[3])<<32 |
			uint64(ln[4])<<24 | uint64(ln[5])<<16 | uint64(ln[6])<<8 | uint64(ln[7])
		if n > maxSectionBytes {
			return nil, fmt.Errorf("section %s: length %d is implausible", name, n)
		}
		body := io.LimitReader(r, int64(n))
		var dst any
		switch string(name) {
		case "members":
			dst = &s.members
		case "assignment":
			dst = &s.asg
		case "checkpoints":
			dst = &s.ckpt
		default:
			if _, err := io.Copy(io.Discard, body); err != nil {
				return nil, fmt.Errorf("section %s: skip: %w", name, err)
			}
			continue
		}
		if err := json.NewDecoder(body).Decode(dst); err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
		// The decoder may stop before the section's end (trailing space).
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
	}
}
