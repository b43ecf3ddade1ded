package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/state/rocks"
)

// TestJoinStoresSnapshotMatchesChangelog runs examples/adclicks (a
// stream-stream left join, its stores impression-clicks-this, -other and
// -outer) with checkpoints every second on half of adInput, so that all three
// stores hold records, and stops it once every input record is committed and a
// checkpoint has completed after that. Then it restores the stores twice: once
// with the RocksDB state deleted (from the newest snapshot, plus the
// changelogs' tails) and once with the whole state directory and the snapshots
// deleted (a full replay of the changelogs). Both restored stores must equal,
// key for key and byte for byte, the stores the first run left.
func TestJoinStoresSnapshotMatchesChangelog(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	_, addr := startBroker(ctx, t)
	adm := kadm.NewClient(client(t, addr))
	if resp, err := adm.CreateTopics(ctx, adPartitions, 1, nil, adImpressions, adClicks, adAttributions); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	bin := buildExample(ctx, t, "adclicks")
	stateDir, snapshots, status := t.TempDir(), t.TempDir(), freeAddr(t)
	run := func(name string) *proc {
		p := startBinary(t, bin, name, "run", "--brokers", addr, "--state-dir", stateDir, "--snapshots", "file://"+snapshots,
			"--checkpoint-interval", "1s", "--commit-interval", "200ms", "--status-addr", status, "--discovery=false")
		if err := p.waitLog(ctx, "msg=consuming"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const app = "ad-clicks"
	inputs := []string{adImpressions, adClicks, app + "-impression-clicks-right-repartition"}
	caughtUp := func(p *proc) {
		t.Helper()
		if err := poll(ctx, "every input record committed", func() (bool, error) {
			if p.exited() {
				return false, fmt.Errorf("%s exited: %v", p.name, p.err)
			}
			return groupCaughtUp(ctx, adm, app, inputs...)
		}); err != nil {
			t.Fatal(err)
		}
	}

	p := run("adclicks")
	evs := adInput(400)
	var recs []*kgo.Record
	for _, e := range evs[:len(evs)/2] {
		recs = append(recs, adRecord(e))
	}
	produceSync(ctx, t, client(t, addr), recs...)
	caughtUp(p)
	c := &cluster{t: t, status: []string{status}}
	first := lastComplete(c.waitStatus(ctx, 0, "a checkpoint complete", func(st replicaStatus) bool { return lastComplete(st) > 0 }))
	c.waitStatus(ctx, 0, "a checkpoint complete after every input record was", func(st replicaStatus) bool { return lastComplete(st) >= first+2 })
	stopClean(ctx, t, p)
	replica := filepath.Join(stateDir, app, "0")
	want := dumpStores(t, replica)
	for _, s := range []string{"impression-clicks-this", "impression-clicks-other", "impression-clicks-outer"} {
		if n := countPrefix(want, s+"/"); n == 0 {
			t.Fatalf("store %s is empty after the first run: nothing to restore", s)
		}
	}

	restore := func(label, stateFrom string, wipe ...string) {
		t.Helper()
		for _, dir := range wipe {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
		p := run("adclicks-" + strings.ReplaceAll(label, " ", "-"))
		// Only the join's sub-topology has stores: a task per partition restores.
		started := regexp.MustCompile(`msg="task started" .*task=\S+ state_from="` + regexp.QuoteMeta(stateFrom))
		if err := poll(ctx, label+": every join task started", func() (bool, error) {
			return len(started.FindAllString(p.out.String(), -1)) == adPartitions, nil
		}); err != nil {
			t.Fatalf("%v:\n%s", err, grepLines(p.out.String(), "task started"))
		}
		caughtUp(p)
		stopClean(ctx, t, p)
		got := dumpStores(t, replica)
		if d := diffStores(got, want); d != "" {
			t.Errorf("join stores restored %s differ from those the first run left:\n%s", label, d)
		}
		t.Logf("restored %s: %d entries in the join stores", label, len(got))
	}
	restore("from the snapshot", "snapshot of checkpoint", filepath.Join(replica, "state"))
	restore("from the changelog", "full changelog replay", stateDir, snapshots)
}

// groupCaughtUp reports whether group has committed every record of topics.
func groupCaughtUp(ctx context.Context, adm *kadm.Client, group string, topics ...string) (bool, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return false, err
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ok := true
	ends.Each(func(o kadm.ListedOffset) {
		if c, found := committed.Lookup(o.Topic, o.Partition); o.Offset > 0 && (!found || c.At != o.Offset) {
			ok = false
		}
	})
	return ok, nil
}

// dumpStores reads every store partition of the RocksDB instances under
// replicaDir/state as "store/partition/hex(key)" → hex(value).
func dumpStores(t *testing.T, replicaDir string) map[string]string {
	t.Helper()
	pool, err := rocks.OpenPool(filepath.Join(replicaDir, "state"), rocks.Memory{BlockCache: 8 << 20, WriteBuffers: 8 << 20})
	if err != nil {
		t.Fatalf("open the application's state: %v", err)
	}
	defer pool.Close()
	names, err := pool.Instances()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range names {
		db, err := pool.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range db.Stores() {
			s, err := db.Store(sp.Store, sp.Partition)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Range(func(k, v []byte) error {
				out[fmt.Sprintf("%s/%d/%x", sp.Store, sp.Partition, k)] = hex.EncodeToString(v)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	return out
}

func countPrefix(m map[string]string, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// diffStores describes how got differs from want (empty when equal).
func diffStores(got, want map[string]string) string {
	var lines []string
	for _, k := range sortedKeys(got, want) {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			lines = append(lines, "  missing "+k)
		case !wok:
			lines = append(lines, "  extra "+k)
		case g != w:
			lines = append(lines, fmt.Sprintf("  %s: %s, want %s", k, g, w))
		}
	}
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("  ... and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}
