package coordinator

import (
	"cmp"
	"fmt"
	"slices"
)

// plan computes the next step towards a balanced, sticky assignment of tasks
// to the alive members of v:
//
//   - every alive member gets floor(T/N) or ceil(T/N) tasks; the ceil slots go
//     to the members that already hold the most, so that the fewest tasks move;
//   - a task stays with its owner unless the owner is not alive or holds more
//     than its share; then it is released (owner → nobody), but a stateful
//     one only once a member with room keeps a caught-up copy of it: until
//     then it keeps running on its owner while that member warms up
//     (planWarmups, warmup.go; v.maxWarmups at a time);
//   - a free task goes back to the member that last owned it when that member
//     has room (its local state is still there), else to a member with room
//     keeping a caught-up copy (a finished warm-up), else to the least loaded
//     member with room; a task whose last owner may still be running it
//     (mayAssign says no) waits, unless it goes back to that same owner;
//   - but first, a free task whose last owner is gone goes to a member
//     (even one without room) that keeps a caught-up standby of it (caughtUp, may be nil), whose
//     state needs only a short replay (Kafka Streams' HighAvailabilityTaskAssignor
//     also prefers caught-up clients).
//
// Releasing and assigning are separate moves, so a task never changes
// between two members in one epoch: the leader commits the release, waits
// until the old owner has stopped it, and assigns it in a later epoch.
func plan(tasks []TaskID, v view, mayAssign func(TaskID) bool, caughtUp func(TaskID, string) bool) (moves []TaskMove, reason string) {
	var alive []string
	for addr, m := range v.members {
		if m.State == MemberAlive {
			alive = append(alive, addr)
		}
	}
	slices.Sort(alive)
	isAlive := func(a string) bool { _, ok := slices.BinarySearch(alive, a); return ok }

	count := map[string]int{}
	owned := map[string][]TaskID{}
	var free []TaskID
	released := 0
	for _, t := range tasks {
		o := v.owner[t]
		switch {
		case o == "":
			free = append(free, t)
		case !isAlive(o):
			// Dead and left members' tasks are freed when the death is
			// applied; this only guards against a state that missed it.
			moves = append(moves, TaskMove{Task: t, From: o})
			released++
		default:
			count[o]++
			owned[o] = append(owned[o], t)
		}
	}
	if len(alive) == 0 {
		return moves, describe(released, 0, 0)
	}

	// Shares: who gets the extra task of a ceil share.
	base, extra := len(tasks)/len(alive), len(tasks)%len(alive)
	order := slices.Clone(alive)
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(count[b], count[a]) })
	share := map[string]int{}
	for i, m := range order {
		share[m] = base
		if i < extra {
			share[m]++
		}
	}

	// Release what is over a share: the highest-numbered tasks, stateless
	// ones first (v.stateful), since a caught-up standby may have been given
	// a task beyond its share. A stateful one may wait for a warm-up.
	var over []overShare
	for _, m := range alive {
		slices.SortStableFunc(owned[m], func(a, b TaskID) int {
			return compareBool(v.stateful[b], v.stateful[a])
		})
		for count[m] > share[m] {
			ts := owned[m]
			t := ts[len(ts)-1]
			owned[m] = ts[:len(ts)-1]
			count[m]--
			if v.stateful[t] {
				over = append(over, overShare{task: t, from: m})
				continue
			}
			moves = append(moves, TaskMove{Task: t, From: m})
			released++
		}
	}
	warm, rel, warming := planWarmups(over, v, alive, count, share, caughtUp)
	moves = append(moves, warm...)
	released += rel

	assigned := assignFree(free, v, alive, count, share, mayAssign, caughtUp)
	moves = append(moves, assigned...)
	return moves, describe(released, len(assigned), warming)
}

// assignFree gives the free tasks to alive members (plan's last three rules),
// counting them in count.
func assignFree(free []TaskID, v view, alive []string, count, share map[string]int,
	mayAssign func(TaskID) bool, caughtUp func(TaskID, string) bool) (moves []TaskMove) {
	isAlive := func(a string) bool { _, ok := slices.BinarySearch(alive, a); return ok }
	give := func(t TaskID, to string) {
		count[to]++
		moves = append(moves, TaskMove{Task: t, To: to})
	}
	// hasCopy is a member with room keeping a caught-up copy of t: a warm-up
	// made for it (planWarmups), or a standby.
	hasCopy := func(t TaskID) string {
		for _, m := range alive {
			if caughtUp != nil && count[m] < share[m] && slices.Contains(v.standby[t], m) && caughtUp(t, m) {
				return m
			}
		}
		return ""
	}
	// Caught-up standbys first, so that tasks without one do not take the
	// room their standby's member has.
	var rest []TaskID
	for _, t := range free {
		if last := v.lastOwner[t]; last != "" && isAlive(last) {
			rest = append(rest, t)
			continue
		}
		// Even beyond its share: the next plan releases a task without
		// standbys from it instead, cheaper to move than a state to restore.
		to := ""
		if caughtUp != nil && mayAssign(t) {
			for _, m := range v.standby[t] {
				if isAlive(m) && caughtUp(t, m) && (to == "" || count[m] < count[to]) {
					to = m
				}
			}
		}
		if to == "" {
			rest = append(rest, t)
			continue
		}
		give(t, to)
	}
	// Then those with a caught-up copy on a member with room (a planned
	// move after its warm-up), then the others.
	slices.SortStableFunc(rest, func(a, b TaskID) int { return compareBool(hasCopy(a) == "", hasCopy(b) == "") })
	for _, t := range rest {
		var to string
		if last := v.lastOwner[t]; last != "" && isAlive(last) && count[last] < share[last] {
			to = last
		} else {
			if !mayAssign(t) {
				continue
			}
			if to = hasCopy(t); to == "" {
				for _, m := range alive {
					if count[m] < share[m] && (to == "" || count[m] < count[to]) {
						to = m
					}
				}
			}
		}
		if to != "" {
			give(t, to)
		}
	}
	return moves
}

func describe(released, assigned, warming int) string {
	if warming > 0 {
		return fmt.Sprintf("rebalance: %d released, %d assigned, %d warm-ups placed", released, assigned, warming)
	}
	switch {
	case released > 0 && assigned > 0:
		return fmt.Sprintf("rebalance: %d released, %d assigned", released, assigned)
	case released > 0:
		return fmt.Sprintf("rebalance: %d released (handover)", released)
	default:
		return fmt.Sprintf("assign: %d tasks", assigned)
	}
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
