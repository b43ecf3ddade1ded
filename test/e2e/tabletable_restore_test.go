package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTableTableRestoreKeepsRowTimes runs examples/tabletable with
// checkpoints every second, writes both tables at random times (not in order),
// and stops it cleanly once a checkpoint has completed after every record.
// Then it restarts it twice: from the snapshot (its RocksDB state deleted),
// updating every customer, and from the changelogs alone (state directory and
// snapshots deleted), updating every account. Each update's inner-join record
// must take the later of the update's time and the other side's row's, a time
// only the restored row carries.
func TestTableTableRestoreKeepsRowTimes(t *testing.T) {
	const ids, partitions = 30, 3
	ctx := testContext(t, 3*time.Minute)
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopics(ctx, partitions, 1, nil, "customers", "accounts", ttInner, ttLeft, ttOuter); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	bin := buildExample(ctx, t, "tabletable")
	stateDir, snapshots, status := t.TempDir(), t.TempDir(), freeAddr(t)
	run := func(name string) *proc {
		p := startBinary(t, bin, name, "run", "--brokers", addr, "--state-dir", stateDir, "--snapshots", "file://"+snapshots,
			"--checkpoint-interval", "1s", "--commit-interval", "200ms", "--status-addr", status, "--discovery=false")
		if err := p.waitLog(ctx, "msg=consuming"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const app = "table-table"
	caughtUp := func(p *proc) {
		t.Helper()
		if err := poll(ctx, "every input record committed", func() (bool, error) {
			if p.exited() {
				return false, fmt.Errorf("%s exited: %v", p.name, p.err)
			}
			return groupCaughtUp(ctx, adm, app, "customers", "accounts")
		}); err != nil {
			t.Fatal(err)
		}
	}

	base := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	rng := rand.New(rand.NewPCG(31, 7))
	at := func() time.Time { return base.Add(time.Duration(rng.IntN(3600_000)) * time.Millisecond) }
	customerTime, accountTime := map[string]int64{}, map[string]int64{} // each row's time
	var recs []*kgo.Record
	for i := range ids {
		id := fmt.Sprintf("k%02d", i)
		c, a := &kgo.Record{Topic: "customers", Key: []byte(id), Timestamp: at()}, &kgo.Record{Topic: "accounts", Key: []byte(id), Timestamp: at()}
		c.Value, a.Value = mustJSON(ttCustomer{Name: "name-" + id, Region: "north"}), mustJSON(ttAccount{BalanceCents: int64(i), Status: "open"})
		customerTime[id], accountTime[id] = c.Timestamp.UnixMilli(), a.Timestamp.UnixMilli()
		recs = append(recs, c, a)
	}
	p := run("tabletable")
	produceSync(ctx, t, cl, recs...)
	caughtUp(p)
	c := &cluster{t: t, status: []string{status}}
	first := lastComplete(c.waitStatus(ctx, 0, "a checkpoint complete", func(st replicaStatus) bool { return lastComplete(st) > 0 }))
	c.waitStatus(ctx, 0, "a checkpoint complete after every input record was", func(st replicaStatus) bool { return lastComplete(st) >= first+2 })
	stopClean(ctx, t, p)

	replica := filepath.Join(stateDir, app, "0")
	// restore restarts the application on what wipe leaves, checks that every
	// task restored from stateFrom, then updates every row of topic at a
	// random time: its inner-join record must take the later of that time and
	// the other side's row's.
	restore := func(label, stateFrom, topic string, wipe ...string) {
		t.Helper()
		for _, dir := range wipe {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
		p := run("tabletable-" + strings.ReplaceAll(label, " ", "-"))
		started := regexp.MustCompile(`msg="task started" .*task=\S+ state_from="` + regexp.QuoteMeta(stateFrom))
		if err := poll(ctx, label+": every task started", func() (bool, error) {
			return len(started.FindAllString(p.out.String(), -1)) == partitions, nil
		}); err != nil {
			t.Fatalf("%v:\n%s", err, grepLines(p.out.String(), "task started"))
		}
		mark := "update-" + strings.ReplaceAll(label, " ", "-")
		want, fromOther := map[string]int64{}, 0
		var recs []*kgo.Record
		for i := range ids {
			id := fmt.Sprintf("k%02d", i)
			r := &kgo.Record{Topic: topic, Key: []byte(id), Timestamp: at()}
			ts := r.Timestamp.UnixMilli()
			if topic == "customers" {
				r.Value = mustJSON(ttCustomer{Name: mark, Region: "south"})
				want[id], customerTime[id] = max(ts, accountTime[id]), ts
			} else {
				r.Value = mustJSON(ttAccount{BalanceCents: int64(i), Status: mark})
				want[id], accountTime[id] = max(ts, customerTime[id]), ts
			}
			if want[id] != ts {
				fromOther++
			}
			recs = append(recs, r)
		}
		if fromOther == 0 {
			t.Fatalf("%s: no update is older than the other side's row: the check would not see the restored times", label)
		}
		produceSync(ctx, t, cl, recs...)
		got := map[string]int64{}
		readUntil(ctx, t, addr, []string{ttInner}, func(rs []*kgo.Record) bool {
			for _, r := range rs {
				var d ttJoined
				if r.Value != nil && json.Unmarshal(r.Value, &d) == nil && (d.Name == mark || d.Status == mark) {
					got[string(r.Key)] = r.Timestamp.UnixMilli()
				}
			}
			return len(got) == ids
		})
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: the inner join of %s's update of %s is at %d, want %d", label, topic, id, got[id], w)
			}
		}
		t.Logf("%s: %d joined updates at the right time, %d of them at the other side's restored row's", label, len(got), fromOther)
		// An interactive query reads the row without its timestamp.
		store := topic // each table's store is named after its topic
		if err := poll(ctx, label+": GET /stores/"+store+"/k00 shows the update", func() (bool, error) {
			body, err := httpGet(ctx, "http://"+status+"/stores/"+store+"/k00")
			var kv struct {
				Key   string   `json:"key"`
				Value ttJoined `json:"value"` // a customer's or an account's fields
			}
			if err != nil || json.Unmarshal([]byte(body), &kv) != nil {
				return false, nil // not served yet
			}
			if kv.Key != "k00" || (kv.Value.Name != mark && kv.Value.Status != mark) {
				return false, fmt.Errorf("answer %s", body)
			}
			return true, nil
		}); err != nil {
			t.Error(err)
		}
		stopClean(ctx, t, p)
	}
	restore("from the snapshot", "snapshot of checkpoint", "customers", filepath.Join(replica, "state"))
	restore("from the changelog", "full changelog replay", "accounts", stateDir, snapshots)
}
