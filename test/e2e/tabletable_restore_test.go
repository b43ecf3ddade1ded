package e2e

import (
	"context"
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
// only the restored row carries; an interactive query reads the row without it.
func TestTableTableRestoreKeepsRowTimes(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	_, addr := startBroker(ctx, t)
	r := &ttRestore{ctx: ctx, t: t, addr: addr, cl: client(t, addr), status: freeAddr(t), rng: rand.New(rand.NewPCG(31, 7)),
		base: time.Now().Add(-24 * time.Hour).Truncate(time.Second), rowTime: map[string]map[string]int64{"customers": {}, "accounts": {}}}
	adm := kadm.NewClient(r.cl)
	if resp, err := adm.CreateTopics(ctx, ttRestorePartitions, 1, nil, "customers", "accounts", ttInner, ttLeft, ttOuter); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	r.bin = buildExample(ctx, t, "tabletable")
	stateDir, snapshots := t.TempDir(), t.TempDir()
	r.args = []string{"run", "--brokers", addr, "--state-dir", stateDir, "--snapshots", "file://" + snapshots,
		"--checkpoint-interval", "1s", "--commit-interval", "200ms", "--status-addr", r.status, "--discovery=false"}
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

	var recs []*kgo.Record
	for i := range ttRestoreIDs {
		id := fmt.Sprintf("k%02d", i)
		recs = append(recs, r.record("customers", id, ttCustomer{Name: "name-" + id, Region: "north"}),
			r.record("accounts", id, ttAccount{BalanceCents: int64(i), Status: "open"}))
	}
	p := r.run("tabletable", "")
	produceSync(ctx, t, r.cl, recs...)
	caughtUp(p)
	c := &cluster{t: t, status: []string{r.status}}
	first := lastComplete(c.waitStatus(ctx, 0, "a checkpoint complete", func(st replicaStatus) bool { return lastComplete(st) > 0 }))
	c.waitStatus(ctx, 0, "a checkpoint complete after every input record was", func(st replicaStatus) bool { return lastComplete(st) >= first+2 })
	stopClean(ctx, t, p)

	if err := os.RemoveAll(filepath.Join(stateDir, app, "0", "state")); err != nil {
		t.Fatal(err)
	}
	p = r.run("tabletable-from-snapshot", "snapshot of checkpoint")
	r.updateAll("from the snapshot", "customers")
	stopClean(ctx, t, p)
	for _, dir := range []string{stateDir, snapshots} {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	p = r.run("tabletable-from-changelog", "full changelog replay")
	r.updateAll("from the changelog", "accounts")
	stopClean(ctx, t, p)
}

const ttRestoreIDs, ttRestorePartitions = 30, 3

// ttRestore is TestTableTableRestoreKeepsRowTimes's application, input and
// the time of each row it wrote.
type ttRestore struct {
	ctx          context.Context
	t            *testing.T
	cl           *kgo.Client
	addr, status string
	bin          string
	args         []string
	rng          *rand.Rand
	base         time.Time
	rowTime      map[string]map[string]int64 // topic → key → the time of its row
}

// run starts the application and, unless stateFrom is empty, waits until
// every task has started from it.
func (r *ttRestore) run(name, stateFrom string) *proc {
	r.t.Helper()
	p := startBinary(r.t, r.bin, name, r.args...)
	if err := p.waitLog(r.ctx, "msg=consuming"); err != nil {
		r.t.Fatal(err)
	}
	if stateFrom == "" {
		return p
	}
	started := regexp.MustCompile(`msg="task started" .*task=\S+ state_from="` + regexp.QuoteMeta(stateFrom))
	if err := poll(r.ctx, name+": every task started from "+stateFrom, func() (bool, error) {
		return len(started.FindAllString(p.out.String(), -1)) == ttRestorePartitions, nil
	}); err != nil {
		r.t.Fatalf("%v:\n%s", err, grepLines(p.out.String(), "task started"))
	}
	return p
}

// record is a row of topic at a random time of the hour after base, noted in rowTime.
func (r *ttRestore) record(topic, id string, row any) *kgo.Record {
	ts := r.base.Add(time.Duration(r.rng.IntN(3600_000)) * time.Millisecond)
	r.rowTime[topic][id] = ts.UnixMilli()
	return &kgo.Record{Topic: topic, Key: []byte(id), Value: mustJSON(row), Timestamp: ts}
}

// updateAll updates every row of topic at a random time: each inner-join
// record must take the later of that time and the other side's row's. Then a
// GET /stores/<topic>/k00 must read the new row, without its timestamp.
func (r *ttRestore) updateAll(label, topic string) {
	t := r.t
	t.Helper()
	other := map[string]string{"customers": "accounts", "accounts": "customers"}[topic]
	mark := "update-" + strings.ReplaceAll(label, " ", "-")
	want, fromOther := map[string]int64{}, 0
	var recs []*kgo.Record
	for i := range ttRestoreIDs {
		id := fmt.Sprintf("k%02d", i)
		var row any = ttCustomer{Name: mark, Region: "south"}
		if topic == "accounts" {
			row = ttAccount{BalanceCents: int64(i), Status: mark}
		}
		recs = append(recs, r.record(topic, id, row))
		want[id] = max(r.rowTime[topic][id], r.rowTime[other][id])
		if want[id] != r.rowTime[topic][id] {
			fromOther++
		}
	}
	if fromOther == 0 {
		t.Fatalf("%s: no update is older than the other side's row: the check would not see the restored times", label)
	}
	produceSync(r.ctx, t, r.cl, recs...)
	got := map[string]int64{}
	readUntil(r.ctx, t, r.addr, []string{ttInner}, func(rs []*kgo.Record) bool {
		for _, rec := range rs {
			var d ttJoined
			if rec.Value != nil && json.Unmarshal(rec.Value, &d) == nil && (d.Name == mark || d.Status == mark) {
				got[string(rec.Key)] = rec.Timestamp.UnixMilli()
			}
		}
		return len(got) == ttRestoreIDs
	})
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: the inner join of %s's update of %s is at %d, want %d", label, topic, id, got[id], w)
		}
	}
	t.Logf("%s: %d joined updates at the right time, %d of them at the other side's restored row's", label, len(got), fromOther)
	// Each table's store is named after its topic.
	if err := poll(r.ctx, label+": GET /stores/"+topic+"/k00 shows the update", func() (bool, error) {
		body, err := httpGet(r.ctx, "http://"+r.status+"/stores/"+topic+"/k00")
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
}
