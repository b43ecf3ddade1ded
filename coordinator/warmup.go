package coordinator

import (
	"cmp"
	"maps"
	"slices"
)

// Warm-ups (Kafka Streams' KIP-441 warm-up replicas): a planned move of a
// stateful task (its owner is over its share: scale-out, a member rejoining)
// first warms the new owner up, so that the task keeps running on its owner
// meanwhile and starts on the new one from local state with a short replay.
//
//	plan: task over its owner's share, no member with room has a caught-up copy
//	   ─▶ a warm-up standby on the member it will go to (Warmup set, at most
//	      Config.MaxWarmupReplicas at a time, beyond StandbyReplicas)
//	engine runs it as any standby ─▶ heartbeat lag ─▶ each leader tick re-plans
//	   (Kafka Streams' probing rebalance) ─▶ lag ≤ AcceptableRecoveryLag
//	   ─▶ release from the owner ─▶ assignFree prefers the caught-up member
//	   ─▶ promotion drops the warm-up in the same epoch
//
// A warm-up whose member dies or leaves goes with its standbys (fsm.release);
// one no longer wanted (its task was balanced otherwise) is dropped here.

// DefaultMaxWarmupReplicas is Kafka Streams' max.warmup.replicas.
const DefaultMaxWarmupReplicas = 2

// overShare is a stateful task its owner holds beyond its share.
type overShare struct {
	task TaskID
	from string
}

// planWarmups decides what happens to the stateful tasks over their owners'
// shares, in release order: a task is released when a member with room
// keeps a caught-up copy (caughtUp, may be nil), or when no member has room
// (as without warm-ups); else it stays and a member with room is reserved
// for it, given a warm-up if it keeps no copy and fewer than v.maxWarmups
// are under way. Reserved and released tasks count in count. It also drops
// the warm-ups no longer wanted.
func planWarmups(over []overShare, v view, alive []string, count, share map[string]int,
	caughtUp func(TaskID, string) bool) (moves []TaskMove, released, warming int) {
	isAlive := func(a string) bool { _, ok := slices.BinarySearch(alive, a); return ok }
	inUse := 0
	for t, m := range v.warmup {
		if isAlive(m) && v.owner[t] != m {
			inUse++
		}
	}
	wanted := map[TaskID]string{}
	for _, o := range over {
		var room []string
		for _, m := range alive {
			if m != o.from && count[m] < share[m] {
				room = append(room, m)
			}
		}
		to := ""
		if caughtUp != nil {
			for _, m := range room {
				if caughtUp(o.task, m) {
					to = m
					break
				}
			}
		}
		if to != "" || len(room) == 0 {
			moves = append(moves, TaskMove{Task: o.task, From: o.from})
			released++
			if to != "" {
				count[to]++
				wanted[o.task] = to // its warm-up stays until it is promoted
			}
			continue
		}
		to = warmupTarget(o.task, v, room, count)
		count[to]++
		wanted[o.task] = to
		if slices.Contains(v.standby[o.task], to) || inUse >= v.maxWarmups {
			continue // its copy is catching up, or it waits for a free warm-up
		}
		inUse++
		warming++
		moves = append(moves, TaskMove{Task: o.task, To: to, Standby: true, Warmup: true})
	}
	ts := slices.SortedFunc(maps.Keys(v.warmup), compareTasks)
	for _, t := range ts {
		m := v.warmup[t]
		if !isAlive(m) || (v.owner[t] != "" && v.owner[t] != m && wanted[t] != m) {
			moves = append(moves, TaskMove{Task: t, From: m, Standby: true, Warmup: true})
		}
	}
	return moves, released, warming
}

// warmupTarget picks, among the members with room, where task t will go:
// one already keeping a copy (its warm-up first: sticky), else the least
// loaded.
func warmupTarget(t TaskID, v view, room []string, count map[string]int) string {
	rank := func(m string) int {
		switch {
		case v.warmup[t] == m:
			return 0
		case slices.Contains(v.standby[t], m):
			return 1
		}
		return 2
	}
	return slices.MinFunc(room, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(count[a], count[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}
