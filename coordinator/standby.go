package coordinator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// Standby replicas (Config.StandbyReplicas, Kafka Streams' num.standby.replicas):
// members that keep a warm copy of a stateful task's state by tailing its
// changelogs, so that when the owner dies the task goes to one of them and
// its restore replays only a short tail.
//
//	leader: planStandbys ─▶ standby moves (Raft, in the assignment history) ─▶ AssignmentChanged.Standby
//	engine: tails the changelogs ─▶ SetStandbyLags ─▶ heartbeat ─▶ report.StandbyLags (leader memory)
//	owner dies ─▶ plan gives the task to a member whose standby lags ≤ AcceptableRecoveryLag
//	             (the standby is promoted: it leaves the task's standbys in the same epoch)

// DefaultAcceptableRecoveryLag is Kafka Streams' acceptable.recovery.lag.
const DefaultAcceptableRecoveryLag = 10_000

// planStandbys computes the standby moves that bring every stateful task of
// an owner to n standbys (or as many as there are other alive members):
// standbys on members no longer alive, on the owner, or beyond n are dropped;
// existing ones stay (sticky); new ones go to the task's last owner when it
// is alive (its local state is still there), else spread (better). Tasks without an owner get none
// added: their next owner is not known yet.
func planStandbys(stateful []TaskID, v view, n int) []TaskMove {
	var alive []string
	for addr, m := range v.members {
		if m.State == MemberAlive {
			alive = append(alive, addr)
		}
	}
	slices.Sort(alive)
	isAlive := func(a string) bool { _, ok := slices.BinarySearch(alive, a); return ok }
	owned, keeps := map[string]int{}, map[string]int{}
	pairs := map[[2]string]int{} // {standby member, owner}: how many
	for _, o := range v.owner {
		owned[o]++
	}
	for t, ss := range v.standby {
		for _, s := range ss {
			keeps[s]++
			pairs[[2]string{s, v.owner[t]}]++
		}
	}
	var moves []TaskMove
	for _, t := range stateful {
		owner := v.owner[t]
		var kept []string
		for _, s := range v.standby[t] {
			if s == v.warmup[t] && s != owner {
				continue // a warm-up: planWarmups keeps or drops it
			}
			if !isAlive(s) || s == owner || len(kept) >= n {
				moves = append(moves, TaskMove{Task: t, From: s, Standby: true})
				keeps[s]--
				continue
			}
			kept = append(kept, s)
		}
		if owner == "" {
			continue
		}
		for len(kept) < min(n, len(alive)-1) {
			to := ""
			for _, c := range alive {
				if c == owner || c == v.warmup[t] || slices.Contains(kept, c) {
					continue
				}
				if to == "" || better(c, to, owner, v.lastOwner[t], keeps, owned, pairs) {
					to = c
				}
			}
			if to == "" {
				break
			}
			kept = append(kept, to)
			keeps[to]++
			pairs[[2]string{to, owner}]++
			moves = append(moves, TaskMove{Task: t, To: to, Standby: true})
		}
	}
	return moves
}

// better says whether member a is a better place than b for a new standby of
// a task of owner whose last owner is last: the last owner (its state is
// there), then the member keeping the fewest standbys of owner's tasks (so
// that when owner dies its tasks spread over the members that take them
// over), then the fewest standbys, then the fewest tasks.
func better(a, b, owner, last string, keeps, owned map[string]int, pairs map[[2]string]int) bool {
	if (a == last) != (b == last) {
		return a == last
	}
	if c := cmp.Compare(pairs[[2]string{a, owner}], pairs[[2]string{b, owner}]); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(keeps[a], keeps[b]); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(owned[a], owned[b]); c != 0 {
		return c < 0
	}
	return a < b
}

func describeStandbys(moves []TaskMove) string {
	added, dropped := 0, 0
	for _, mv := range moves {
		if mv.To != "" {
			added++
		}
		if mv.From != "" {
			dropped++
		}
	}
	return fmt.Sprintf("standbys: %d placed, %d dropped", added, dropped)
}

// standbyCaughtUpLocked says whether member m keeps a standby of t whose last
// reported changelog lag is at most AcceptableRecoveryLag. ls.mu is held.
func (n *Node) standbyCaughtUpLocked(ls *leaderState, v view, t TaskID, m string) bool {
	mem, ok := v.members[m]
	r := ls.reports[m]
	if !ok || r == nil || r.Incarnation != mem.Incarnation {
		return false
	}
	lag, ok := r.StandbyLags[t.String()]
	return ok && lag >= 0 && lag <= n.cfg.AcceptableRecoveryLag
}

// Standbys returns the tasks the applied assignment has this replica keep
// a standby of.
func (n *Node) Standbys() []TaskID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.localStandby)
}

// SetStandbyLags tells the coordinator how many changelog records each of
// this replica's standbys (keyed by TaskID.String()) is behind the end of its
// changelogs; heartbeats carry them to the leader, which promotes only a
// caught-up standby. Any goroutine may call it.
func (n *Node) SetStandbyLags(lags map[string]int64) {
	n.mu.Lock()
	n.standbyLags = maps.Clone(lags)
	n.mu.Unlock()
}
