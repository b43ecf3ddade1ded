package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// Status is what a replica knows of the group, for status endpoints.
type Status struct {
	ID           string              `json:"id"`
	Addr         string              `json:"addr"`
	RaftState    string              `json:"raft_state"`
	LeaderID     string              `json:"leader_id,omitempty"`
	LeaderAddr   string              `json:"leader_addr,omitempty"`
	IsLeader     bool                `json:"is_leader"`
	NotReady     string              `json:"not_ready,omitempty"`
	Lease        LeaseStatus         `json:"lease"`
	Members      []MemberStatus      `json:"members"`
	Epoch        uint64              `json:"epoch"`
	Assignment   map[string]string   `json:"assignment"`        // task → owner's advertise address
	Standby      map[string][]string `json:"standby,omitempty"` // task → the members keeping a standby of it
	Warmup       map[string]string   `json:"warmup,omitempty"`  // task → the member warming up for a planned move (one of its standbys)
	Mine         []TaskID            `json:"mine"`
	MyStandbys   []TaskID            `json:"my_standbys,omitempty"`
	History      []AssignmentChange  `json:"assignment_history"` // the last 50
	Checkpoints  []Checkpoint        `json:"checkpoints"`        // the last 20
	LastComplete uint64              `json:"last_complete_checkpoint,omitempty"`
}

// LeaseStatus is this replica's lease.
type LeaseStatus struct {
	Valid           bool   `json:"valid"`
	Epoch           uint64 `json:"epoch"`
	RemainingMillis int64  `json:"remaining_ms"`
}

// MemberStatus is one member. The heartbeat fields are known only to the
// leader (see LeaderStatus).
type MemberStatus struct {
	ID          string      `json:"id"`
	Addr        string      `json:"addr"`
	StatusAddr  string      `json:"status_addr,omitempty"`
	State       MemberState `json:"state"`
	Suffrage    string      `json:"suffrage"` // voter, nonvoter, or none (not in the Raft configuration)
	JoinedEpoch uint64      `json:"joined_epoch"`
	Incarnation uint64      `json:"incarnation"`
	Since       time.Time   `json:"since"`
	Tasks       int         `json:"tasks"`
	// From heartbeats (leader only):
	LastHeardMillisAgo *int64           `json:"last_heard_ms_ago,omitempty"`
	AppliedEpoch       *uint64          `json:"applied_epoch,omitempty"`
	Running            []TaskID         `json:"running,omitempty"`
	Lags               map[string]int64 `json:"lags,omitempty"`
	StandbyLags        map[string]int64 `json:"standby_lags,omitempty"`
}

// Status returns this replica's view.
func (n *Node) Status() Status {
	now := time.Now()
	v := n.fsm.view()
	leaderAddr, leaderID := n.raft().LeaderWithID()
	st := Status{ID: n.id, Addr: n.addr, RaftState: n.raft().State().String(), LeaderID: string(leaderID),
		LeaderAddr: string(leaderAddr), IsLeader: n.raft().State() == raft.Leader, NotReady: n.NotReady(),
		Epoch: v.epoch, Assignment: map[string]string{}, Mine: n.Mine(), MyStandbys: n.Standbys()}
	for t, ss := range v.standby {
		if st.Standby == nil {
			st.Standby = map[string][]string{}
		}
		st.Standby[t.String()] = ss
	}
	for t, m := range v.warmup {
		if st.Warmup == nil {
			st.Warmup = map[string]string{}
		}
		st.Warmup[t.String()] = m
	}
	if leaderID != "" {
		if m, ok := v.members[string(leaderID)]; ok {
			st.LeaderID = m.ID
		}
	}
	n.mu.Lock()
	st.Lease = LeaseStatus{Valid: n.leaseValidLocked(now), Epoch: n.lease.epoch}
	if st.Lease.Valid {
		st.Lease.RemainingMillis = n.lease.until.Sub(now).Milliseconds()
	}
	n.mu.Unlock()

	suffrage := map[string]string{}
	if cf := n.raft().GetConfiguration(); cf.Error() == nil {
		for _, s := range cf.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				suffrage[string(s.ID)] = "voter"
			} else {
				suffrage[string(s.ID)] = "nonvoter"
			}
		}
	}
	count := map[string]int{}
	for t, o := range v.owner {
		st.Assignment[t.String()] = o
		count[o]++
	}
	ls := n.leading.Load()
	for _, addr := range sortedKeys(v.members) {
		m := v.members[addr]
		ms := MemberStatus{ID: m.ID, Addr: m.Addr, StatusAddr: m.StatusAddr, State: m.State, Suffrage: suffrage[addr],
			JoinedEpoch: m.JoinedEpoch, Incarnation: m.Incarnation, Since: m.Since, Tasks: count[addr]}
		if ms.Suffrage == "" {
			ms.Suffrage = "none"
		}
		if ls != nil {
			ls.mu.Lock()
			ago := now.Sub(ls.lastHeard(addr)).Milliseconds()
			ms.LastHeardMillisAgo = &ago
			if r := ls.reports[addr]; r != nil {
				e := r.AppliedEpoch
				ms.AppliedEpoch = &e
				for t := range r.Running {
					ms.Running = append(ms.Running, t)
				}
				slices.SortFunc(ms.Running, compareTasks)
				ms.Lags = r.Lags
				ms.StandbyLags = r.StandbyLags
			}
			ls.mu.Unlock()
		}
		st.Members = append(st.Members, ms)
	}
	st.History = n.fsm.history(50)
	cps := n.fsm.checkpoints()
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].State == CheckpointComplete {
			st.LastComplete = cps[i].ID
			break
		}
	}
	if len(cps) > 20 {
		cps = cps[len(cps)-20:]
	}
	st.Checkpoints = cps
	return st
}

// LeaderStatus asks the leader for its Status, which includes what the
// members report in their heartbeats (running tasks, lag, last heard).
func (n *Node) LeaderStatus(ctx context.Context) (Status, error) {
	var st Status
	err := errors.New("no leader or peer known")
	for _, addr := range n.targets() {
		if err = n.do(ctx, addr, pathStatus, nil, nil, &st); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return Status{}, fmt.Errorf("leader status: %w", err)
	}
	return st, nil
}
