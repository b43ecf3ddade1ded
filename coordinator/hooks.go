package coordinator

import "sync/atomic"

// testHooks lets tests of this package simulate what they cannot cause from
// outside: a paused replica, and a look at the lease a closed node held. A
// Node has one only when its Config.hooks was set (by tests); production
// nodes have none and these checks cost a nil test.
type testHooks struct {
	// stalled stops heartbeats and joins (a SIGSTOPped or partitioned
	// replica).
	stalled atomic.Bool
	// leaseAtClose is the lease held when Close ran (tests compare it with
	// when the tasks moved).
	leaseAtClose lease
}

func (h *testHooks) isStalled() bool { return h != nil && h.stalled.Load() }
