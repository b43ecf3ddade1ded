package coordinator

import (
	"context"
	"testing"
	"time"
)

// A single replica (no peers) restarted on its data directory at a new
// address gets its tasks back at once, whether it left cleanly or crashed:
// its earlier self is known to be gone. The failure timeout is an hour, so
// waiting for it would hang the test.
func TestSingleReplicaRestartTakesTasksBackAtOnce(t *testing.T) {
	for _, clean := range []bool{true, false} {
		name := map[bool]string{true: "leave", false: "crash"}[clean]
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, 1, 4, func(cfg *Config) {
				cfg.Peers = nil
				cfg.FailureTimeout = time.Hour
			})
			c.waitReady()
			old := c.nodes[0]
			c.settled(func(counts map[string]int) bool { return counts[old.addr] == 4 })
			if clean {
				old.eng.close()
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				defer cancel()
				if err := old.Leave(ctx); err != nil {
					t.Fatal(err)
				}
				old.Close()
			} else {
				old.Close()
				old.eng.close()
			}
			n := c.start("n1-again", "127.0.0.1:0", old.dir)
			if n.addr == old.addr {
				t.Fatalf("restarted at the same address %s", n.addr)
			}
			c.waitReady()
			c.settled(func(counts map[string]int) bool { return counts[n.addr] == 4 })
			want := MemberDead
			if clean {
				want = MemberLeft
			}
			if m, _ := n.fsm.member(old.addr); m.State != want {
				t.Errorf("the earlier incarnation is %s, want %s", m.State, want)
			}
			checkHistory(t, n.fsm.history(maxAssignmentHistory))
		})
	}
}
