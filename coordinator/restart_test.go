package coordinator

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/raft"
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

// A member that is alive but missing from the Raft configuration is added
// again. It happens when a replica leaves (SIGTERM) and starts again at once:
// its join finds it still in the configuration, then the leave's
// RemoveServer commits. Out of the configuration no leader contacts it; it
// must not stay there, unable to learn of assignments or of being declared
// dead (seen once in make chaos on real Kafka).
func TestAliveMemberMissingFromRaftIsAddedAgain(t *testing.T) {
	c := newCluster(t, 3, 6, nil)
	c.waitReady()
	c.settled(func(counts map[string]int) bool { return balanced(counts, 3, 6) })
	leader := c.leader()
	var victim *testNode
	for _, n := range c.alive() {
		if n != leader {
			victim = n
			break
		}
	}
	// The late removal, as the leave's RemoveServer would commit it.
	if err := leader.raft().RemoveServer(raft.ServerID(victim.addr), 0, 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the member back in the raft configuration", func() bool {
		cf := c.leader().raft().GetConfiguration()
		if cf.Error() != nil {
			return false
		}
		for _, s := range cf.Configuration().Servers {
			if string(s.ID) == victim.addr {
				return true
			}
		}
		return false
	})
	// Back in, it takes part in assignments again: every member runs a share.
	c.settled(func(counts map[string]int) bool { return balanced(counts, 3, 6) })
	if m, _ := c.leader().fsm.member(victim.addr); m.State != MemberAlive {
		t.Errorf("%s is %s, want alive", victim.name, m.State)
	}
}
