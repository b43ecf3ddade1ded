package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// lookupTask looks each record's value up in global table 0 and emits
// key → the row, or "none".
type lookupTask struct {
	out     runtime.Emitter
	table   state.Backend
	current int
}

func (t *lookupTask) Current() int      { return t.current }
func (t *lookupTask) Flush() error      { return nil }
func (t *lookupTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *lookupTask) Process(_ int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		r := &batch[i]
		row, found, err := t.table.Get(r.Value)
		if err != nil {
			return r.Fail("lookup", err)
		}
		if !found {
			row = []byte("none")
		}
		t.out.Emit(2, r.Key, row, r.Timestamp)
	}
	return nil
}

// lookupProgram reads "in" (2 partitions) and looks values up in a global
// table of topic "dim" (3 partitions).
func lookupProgram(persistent bool) *runtime.Program {
	return &runtime.Program{
		Name: "Lookup", DefaultAppID: "lookup",
		Topics: []runtime.TopicSpec{{Name: "in", Kind: runtime.SourceTopic}, {Name: "dim", Kind: runtime.SourceTopic}, {Name: "out", Kind: runtime.SinkTopic}},
		SubTopologies: []runtime.SubTopologySpec{{
			ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{2},
			NewTask: func(ctx runtime.TaskContext) runtime.Task { return &lookupTask{out: ctx.Out, table: ctx.Globals[0]} },
		}},
		Globals: []runtime.GlobalSpec{{Name: "dim", Topic: 1, Persistent: persistent}},
	}
}

type globalHarness struct {
	t       *testing.T
	ctx     context.Context
	cl      *kgo.Client
	brokers []string
	dir     string
	status  string
	prog    *runtime.Program
	eos     bool
	stop    context.CancelFunc
	done    chan error
	table   map[string]string // the brute-force table: every dim record produced so far
	dimOut  int               // dim records produced
}

func (h *globalHarness) produce(topic, key, value string) {
	h.t.Helper()
	r := &kgo.Record{Topic: topic, Key: []byte(key)}
	if value != "" {
		r.Value = []byte(value)
	}
	if err := h.cl.ProduceSync(h.ctx, r).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
	if topic == "dim" {
		h.dimOut++
		if value == "" {
			delete(h.table, key)
		} else {
			h.table[key] = value
		}
	}
}

// produceTxn writes a dim record in a transaction that commits or aborts: a
// read_committed table applies the first and never sees the second, and the
// transaction markers take offsets of their own.
func (h *globalHarness) produceTxn(key, value string, commit bool) {
	h.t.Helper()
	tx, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.TransactionalID("dim-writer"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.BeginTransaction(); err != nil {
		h.t.Fatal(err)
	}
	if err := tx.ProduceSync(h.ctx, &kgo.Record{Topic: "dim", Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
	if err := tx.EndTransaction(h.ctx, kgo.TransactionEndTry(commit)); err != nil {
		h.t.Fatal(err)
	}
	if commit {
		h.dimOut++
		h.table[key] = value
	}
}

func (h *globalHarness) start() {
	ctx, stop := context.WithCancel(h.ctx)
	h.stop, h.done = stop, make(chan error, 1)
	go func() {
		h.done <- Run(ctx, h.prog, Config{Brokers: h.brokers, AppID: "lookup", StateDir: h.dir, Logger: quietLogger(),
			CommitInterval: 100 * time.Millisecond, StatusAddr: h.status, ExactlyOnce: h.eos})
	}()
}

func (h *globalHarness) halt() {
	h.stop()
	if err := <-h.done; err != nil {
		h.t.Fatal(err)
	}
}

// globalStatus waits until /status shows the table with no lag and applied
// records reaching applied, and returns it.
func (h *globalHarness) globalStatus(applied int64) globalTableView {
	h.t.Helper()
	var last globalTableView
	for h.ctx.Err() == nil {
		var st struct {
			Replica replicaView `json:"replica"`
		}
		resp, err := http.Get("http://" + h.status + "/status")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if err == nil && len(st.Replica.Globals) == 1 {
			last = st.Replica.Globals[0]
			if last.Lag == 0 && last.Applied >= applied {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("the global table did not catch up: last status %+v", last)
	return last
}

// lookups produces one "in" record per key and checks every answer against the
// brute-force table.
func (h *globalHarness) lookups(round int, keys []string) {
	h.t.Helper()
	want := map[string]string{}
	for i, k := range keys {
		id := fmt.Sprintf("r%d-%d", round, i)
		h.produce("in", id, k)
		want[id] = "none"
		if v, ok := h.table[k]; ok {
			want[id] = v
		}
	}
	got := map[string]string{}
	rd, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer rd.Close()
	for len(got) < len(want) && h.ctx.Err() == nil {
		rd.PollFetches(h.ctx).EachRecord(func(r *kgo.Record) {
			if _, mine := want[string(r.Key)]; mine {
				got[string(r.Key)] = string(r.Value)
			}
		})
	}
	for id, w := range want {
		if got[id] != w {
			h.t.Errorf("round %d: %s looked up %q, want %q", round, id, got[id], w)
		}
	}
}

func freeLocalAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestGlobalTableRestoreFollowAndCheckpoint runs a replica against the
// embedded broker: the table is read whole before the first lookup, follows
// updates and deletes while running, and a restart reads only what was
// written while it was stopped (RocksDB and its recorded offsets), where an
// in-memory table reads the whole topic again. Under exactly-once the table
// is read read_committed, to the last stable offset: a committed transaction's
// row is applied, an aborted one's never.
func TestGlobalTableRestoreFollowAndCheckpoint(t *testing.T) {
	for _, tc := range []struct{ persistent, eos bool }{{true, false}, {false, false}, {true, true}} {
		persistent := tc.persistent
		t.Run(fmt.Sprintf("persistent=%v,eos=%v", tc.persistent, tc.eos), func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in"), kfake.SeedTopics(3, "dim"), kfake.SeedTopics(1, "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("in"))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			h := &globalHarness{t: t, ctx: ctx, cl: cl, brokers: c.ListenAddrs(), dir: t.TempDir(), status: freeLocalAddr(t),
				prog: lookupProgram(persistent), table: map[string]string{}, eos: tc.eos}
			var keys []string
			for i := range 60 {
				keys = append(keys, fmt.Sprintf("k%d", i))
				h.produce("dim", keys[i], fmt.Sprintf("v%d", i))
			}
			h.produce("dim", "k7", "") // a tombstone
			h.produce("dim", "k8", "v8-bis")
			if tc.eos {
				h.produceTxn("k5", "aborted", false)
				h.produceTxn("k6", "v6-in-a-transaction", true)
			}

			h.start()
			st := h.globalStatus(int64(h.dimOut))
			if st.RestoredRecords != int64(h.dimOut) || st.RestoredFrom != "start" || st.Rows == 0 {
				t.Errorf("first start: %+v; want every one of the %d records restored from the start", st, h.dimOut)
			}
			h.lookups(0, append(keys, "k-none"))

			// Updates while running are followed.
			h.produce("dim", "k1", "")
			h.produce("dim", "k2", "v2-bis")
			h.produce("dim", "k-new", "fresh")
			h.globalStatus(int64(h.dimOut))
			h.lookups(1, []string{"k1", "k2", "k-new", "k3"})
			h.halt()

			// Written while stopped: the restart restores only these when it
			// has a local checkpoint.
			before := h.dimOut
			for i := range 5 {
				h.produce("dim", fmt.Sprintf("k%d", 10+i), "late")
			}
			h.start()
			st = h.globalStatus(0)
			wantRestored, wantFrom := int64(h.dimOut-before), "checkpoint"
			if !persistent {
				wantRestored, wantFrom = int64(h.dimOut), "start"
			}
			if st.RestoredRecords != wantRestored || st.RestoredFrom != wantFrom {
				t.Errorf("restart: restored %d records from %q, want %d from %q", st.RestoredRecords, st.RestoredFrom, wantRestored, wantFrom)
			}
			h.lookups(2, append(keys, "k-new"))
			h.halt()
		})
	}
}
