package coordinator

import (
	"maps"
	"slices"
)

// Copies of the replicated state for the leader's decisions and for status.

// view is a copy of the state for decisions and status.
type view struct {
	members    map[string]member
	epoch      uint64
	owner      map[TaskID]string
	lastOwner  map[TaskID]string
	releasedAt map[TaskID]uint64
	standby    map[TaskID][]string
	warmup     map[TaskID]string // the standbys that are warm-ups
	inflight   *Checkpoint
	// stateful and maxWarmups are not replicated state: the leader sets
	// them from Config.StatefulTasks and Config.MaxWarmupReplicas for its plan.
	stateful   map[TaskID]bool
	maxWarmups int
}

func cloneStandby(m map[TaskID][]string) map[TaskID][]string {
	out := make(map[TaskID][]string, len(m))
	for t, s := range m {
		out[t] = slices.Clone(s)
	}
	return out
}

func (f *fsm) view() view {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v := view{members: make(map[string]member, len(f.members)), epoch: f.asg.Epoch,
		owner: maps.Clone(f.asg.Owner), lastOwner: maps.Clone(f.asg.LastOwner), releasedAt: maps.Clone(f.asg.ReleasedAt),
		standby: cloneStandby(f.asg.Standby), warmup: maps.Clone(f.asg.Warmup)}
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

// standbys returns the tasks addr keeps a standby of.
func (f *fsm) standbys(addr string) []TaskID {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []TaskID
	for _, t := range f.tasks {
		if slices.Contains(f.asg.Standby[t], addr) {
			out = append(out, t)
		}
	}
	return out
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
