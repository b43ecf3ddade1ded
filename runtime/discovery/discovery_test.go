package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gofka/streams/coordinator"
)

func newBroker(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func newRegistry(t *testing.T, brokers []string, ft time.Duration) *Registry {
	t.Helper()
	r, err := New(Config{Brokers: brokers, AppID: "app", FailureTimeout: ft})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Shutdown)
	return r
}

func read(t *testing.T, r *Registry) coordinator.DiscoveryView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func announce(t *testing.T, r *Registry, addr, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Announce(ctx, coordinator.Announcement{Addr: addr, ID: id}); err != nil {
		t.Fatal(err)
	}
}

// The first to announce sees nobody before it and bootstraps; the second
// sees the first, ranked earlier; a withdrawn replica disappears; one that
// stops announcing goes stale.
func TestAnnounceOrderWithdrawAndStaleness(t *testing.T) {
	brokers := newBroker(t)
	const ft = 200 * time.Millisecond // announce every 100ms, stale after 400ms
	a := newRegistry(t, brokers, ft)
	b := newRegistry(t, brokers, ft)
	c := newRegistry(t, brokers, ft)
	announce(t, a, "a:1", "a")
	announce(t, b, "b:1", "b")

	va := read(t, a)
	if len(va.Earlier("a")) != 0 {
		t.Errorf("a, first: earlier replicas %v, want none", va.Earlier("a"))
	}
	vb := read(t, b)
	if got := vb.Earlier("b"); len(got) != 1 || got[0] != "a:1" {
		t.Errorf("b, second: earlier replicas %v, want [a:1]", got)
	}
	if vb.Rank <= va.Rank {
		t.Errorf("ranks: a %d, b %d", va.Rank, vb.Rank)
	}
	// Announcing again keeps the rank.
	time.Sleep(3 * ft / 2)
	if v := read(t, c); len(v.Others) != 2 || v.Others[0].Addr != "a:1" || v.Others[0].Rank != va.Rank || v.Others[1].Rank != vb.Rank {
		t.Errorf("c reads %+v; want a then b with their first ranks %d, %d", v.Others, va.Rank, vb.Rank)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if v := read(t, c); len(v.Others) != 1 || v.Others[0].Addr != "b:1" {
		t.Errorf("after a withdrew, c reads %+v", v.Others)
	}
	b.Close() // b "crashes": no tombstone, no more announcements
	deadline := time.Now().Add(10 * time.Second)
	for len(read(t, c).Others) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("b's announcement never went stale")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A replica stands while it keeps announcing; one that missed announcing for
// longer than the failure timeout does not, even once it announces again,
// until it announces anew (with a new rank).
func TestStanding(t *testing.T) {
	brokers := newBroker(t)
	const ft = 200 * time.Millisecond
	r := newRegistry(t, brokers, ft)
	if r.Standing() {
		t.Error("standing before announcing")
	}
	announce(t, r, "a:1", "a")
	first := read(t, r).Rank
	time.Sleep(3 * ft / 2)
	if !r.Standing() {
		t.Error("not standing while announcing")
	}
	// A pause: the last announcement looks 2×ft old when the next is due,
	// as if the process had been stopped.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		r.lastOK = time.Now().Add(-2 * ft)
		broken := r.broken
		r.mu.Unlock()
		if broken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gap was not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(ft) // announced again since
	if r.Standing() {
		t.Error("standing again after a gap, without announcing anew")
	}
	announce(t, r, "a:1", "a")
	if !r.Standing() {
		t.Error("not standing after announcing anew")
	}
	if v := read(t, r); v.Rank <= first {
		t.Errorf("rank after announcing anew %d, before %d", v.Rank, first)
	}
}
