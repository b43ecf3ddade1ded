package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// checkRaftMetrics checks what /metrics says of Raft on the alive replicas:
// gofka_raft_is_leader is 1 on the leader /status names and 0 on the
// others, all are in the same term (at least 1), and each has seen a leader.
func (c *cluster) checkRaftMetrics(ctx context.Context, t *testing.T, leader int, alive []int) {
	t.Helper()
	terms := map[float64]bool{}
	for _, i := range alive {
		_, body := c.get(ctx, i, "/metrics")
		isLeader, term, changes := metricValue(body, "gofka_raft_is_leader"), metricValue(body, "gofka_raft_term"), metricValue(body, "gofka_raft_leader_changes_total")
		if want := map[bool]float64{true: 1, false: 0}[i == leader]; isLeader != want {
			t.Errorf("r%d: gofka_raft_is_leader %v, want %v (the leader is r%d)", i, isLeader, want, leader)
		}
		if term < 1 || changes < 1 {
			t.Errorf("r%d: gofka_raft_term %v, gofka_raft_leader_changes_total %v; want both ≥ 1", i, term, changes)
		}
		terms[term] = true
	}
	if len(terms) != 1 {
		t.Errorf("the replicas report different Raft terms: %v", terms)
	}
}

// metricValue is the value of an unlabelled sample in a /metrics body, or -1.
func metricValue(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}
