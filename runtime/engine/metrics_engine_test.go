package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMetricsOfARunningEngine runs the windowed count on the embedded broker
// and reads /metrics: after n records the per-task process counters add up to
// n, the poll and commit histograms have observations, each task's store has
// a size, the input lag reaches 0, and the one replica leads a Raft group of
// term ≥ 1. Then a second run on an empty state directory restores both tasks
// from the changelog: gofka_restore_records_total equals the records the
// changelog holds (its end offsets, read from the broker), the remaining
// records end at 0, and the restore logs progress lines that end at 100 %.
func TestMetricsOfARunningEngine(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "clicks"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("clicks"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// n clicks of distinct keys in one window (none expires): every one is a
	// slot of its own, so the changelog holds n records and the restore takes
	// several fetches (long keys: a fetch brings at most 1 MB of a partition).
	const n = 40_000
	pad := strings.Repeat("x", 100)
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "user-%d-%s", i, pad), Value: []byte("click"), Timestamp: time.UnixMilli(1_000_000 + int64(i%winSize))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	snapshots := "file://" + t.TempDir()
	run := func(log slog.Handler, until func(status string)) {
		status := freeLocalAddr(t)
		cfg := Config{Brokers: c.ListenAddrs(), AppID: "wc", StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond,
			Logger: slog.New(log), Snapshots: snapshots, StatusAddr: status}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- Run(rctx, windowCountProgram(), cfg) }()
		until(status)
		stop()
		if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("engine: %v", err)
		}
	}

	run(slog.NewTextHandler(io.Discard, nil), func(status string) {
		m := waitMetrics(ctx, t, status, func(m samples) bool {
			return m.get(`gofka_records_processed_total`) == n && m.get(`gofka_commit_seconds_count`) > 0 &&
				m.get(`gofka_records_lag{partition="0",topic="clicks"}`) == 0 && m.get(`gofka_records_lag{partition="1",topic="clicks"}`) == 0 &&
				m.has(`gofka_state_store_bytes{store="counts",task="0_1"}`)
		})
		if got := m.get(`gofka_process_total{task="0_0"}`) + m.get(`gofka_process_total{task="0_1"}`); got != n {
			t.Errorf("gofka_process_total over the tasks is %v, want %d", got, n)
		}
		if m.get(`gofka_poll_seconds_count`) < 1 {
			t.Error("no poll observed in gofka_poll_seconds")
		}
		for _, task := range []string{"0_0", "0_1"} {
			if b := m.get(`gofka_state_store_bytes{store="counts",task="` + task + `"}`); b <= 0 {
				t.Errorf("task %s: gofka_state_store_bytes %v, want > 0", task, b)
			}
			if r := m.get(`gofka_restore_remaining_records{task="` + task + `"}`); r != 0 {
				t.Errorf("task %s: gofka_restore_remaining_records %v on a fresh start, want 0", task, r)
			}
		}
		if term := m.get("gofka_raft_term"); term < 1 {
			t.Errorf("gofka_raft_term %v, want ≥ 1", term)
		}
		exported := exportedSeries(t) // what TestREADMEListsEveryMetric and the dashboard test go by
		for k := range m {
			if name, _, _ := strings.Cut(k, "{"); !exported[name] {
				t.Errorf("/metrics serves %s, which the registry the README and dashboard tests read does not describe", name)
			}
		}
		if m.get("gofka_raft_is_leader") != 1 || m.get("gofka_raft_leader_changes_total") < 1 {
			t.Errorf("a replica alone: gofka_raft_is_leader %v, gofka_raft_leader_changes_total %v; want 1 and ≥ 1",
				m.get("gofka_raft_is_leader"), m.get("gofka_raft_leader_changes_total"))
		}
	})

	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "wc-counts-changelog")
	if err != nil {
		t.Fatal(err)
	}
	changelog := map[string]int64{} // task → records in its changelog partition
	var records int64
	ends.Each(func(o kadm.ListedOffset) {
		changelog[fmt.Sprintf("0_%d", o.Partition)] = o.Offset
		records += o.Offset
	})
	if records < n/2 {
		t.Fatalf("the changelog holds %d records; the test wants a large restore", records)
	}

	progressEvery = time.Nanosecond // a line after every fetch
	defer func() { progressEvery = 0 }()
	logs := &recordLog{}
	run(logs, func(status string) {
		m := waitMetrics(ctx, t, status, func(m samples) bool {
			return m.has(`gofka_task_restore_seconds{task="0_0"}`) && m.has(`gofka_task_restore_seconds{task="0_1"}`)
		})
		if got := m.get("gofka_restore_records_total"); got != float64(records) {
			t.Errorf("gofka_restore_records_total %v, want the changelog's %d records", got, records)
		}
		for task := range changelog {
			if r := m.get(`gofka_restore_remaining_records{task="` + task + `"}`); r != 0 {
				t.Errorf("task %s: gofka_restore_remaining_records %v after the restore, want 0", task, r)
			}
		}
	})
	for task, want := range changelog {
		lines := logs.find("restoring", "task", task)
		if len(lines) == 0 {
			t.Errorf("task %s: no restore progress logged", task)
			continue
		}
		var prev int64 = -1
		for _, l := range lines {
			done, _ := strconv.ParseInt(l["records_done"], 10, 64)
			if done < prev || l["records_total"] != strconv.FormatInt(want, 10) || l["eta"] == "" || l["per_second"] == "" {
				t.Errorf("task %s: progress line %v after %d done; want records_total %d, growing records_done, a rate and an eta", task, l, prev, want)
			}
			prev = done
		}
		if last := lines[len(lines)-1]; last["records_done"] != strconv.FormatInt(want, 10) || last["percent"] != "100" {
			t.Errorf("task %s: last progress line %v, want all %d records done, 100 %%", task, last, want)
		}
		t.Logf("task %s: %d progress lines, last %v", task, len(lines), lines[len(lines)-1])
	}
}

// samples are the samples of a /metrics scrape, by name and labels as the
// text format writes them.
type samples map[string]float64

func (s samples) get(k string) float64 { return s[k] }
func (s samples) has(k string) bool    { _, ok := s[k]; return ok }

func parseSamples(text string) samples {
	out := samples{}
	for _, l := range strings.Split(text, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// waitMetrics scrapes http://status/metrics until ok accepts it.
func waitMetrics(ctx context.Context, t *testing.T, status string, ok func(samples) bool) samples {
	t.Helper()
	var last samples
	for {
		if resp, err := http.Get("http://" + status + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = parseSamples(string(body))
			if ok(last) {
				return last
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/metrics never got there; last scrape: %v", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// recordLog is a slog handler that keeps every record's message and attributes.
type recordLog struct {
	mu    sync.Mutex
	lines []map[string]string
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *recordLog) WithGroup(string) slog.Handler            { return l }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	l.lines = append(l.lines, m)
	l.mu.Unlock()
	return nil
}

// find returns the records with message msg and attribute key = value.
func (l *recordLog) find(msg, key, value string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, m := range l.lines {
		if m["msg"] == msg && m[key] == value {
			out = append(out, m)
		}
	}
	return out
}
