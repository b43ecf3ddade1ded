package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/state/snapshot"
)

// windowCountTask counts records per key and tumbling window of winSize ms in
// a state.WindowStore, as generated code for a windowed Count does, and emits
// "key@start" → count for every update.
type windowCountTask struct {
	out        runtime.Emitter
	ws         *state.WindowStore[int64]
	streamTime int64
	current    int
}

const winSize = 1000

func (t *windowCountTask) Current() int      { return t.current }
func (t *windowCountTask) StreamTime() int64 { return t.streamTime }
func (t *windowCountTask) Flush() error      { return t.ws.Flush() }
func (t *windowCountTask) Process(_ int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		r := &batch[i]
		t.streamTime = max(t.streamTime, r.Timestamp)
		if err := t.ws.Expire(t.streamTime); err != nil {
			return r.Fail("expire", err)
		}
		start := r.Timestamp - r.Timestamp%winSize
		s, err := t.ws.Slot(r.Key, start)
		if err != nil {
			return r.Fail("window store", err)
		}
		n, _ := s.Value()
		t.ws.Set(s, n+1, r.Timestamp)
		t.out.Emit(2, fmt.Appendf(nil, "%s@%d", r.Key, start), strconv.AppendInt(nil, n+1, 10), s.Timestamp())
	}
	return nil
}

func windowCountProgram() *runtime.Program {
	return &runtime.Program{
		Name: "WindowCount", DefaultAppID: "window-count",
		Topics: []runtime.TopicSpec{
			{Name: "clicks", Kind: runtime.SourceTopic},
			{Name: "counts-changelog", Kind: runtime.ChangelogTopic},
			{Name: "out", Kind: runtime.SinkTopic},
		},
		Stores: []runtime.StoreSpec{{Name: "counts", Changelog: 1, Persistent: true, Kind: runtime.WindowStore, Retention: 3 * winSize * time.Millisecond}},
		SubTopologies: []runtime.SubTopologySpec{{
			ID:      0,
			Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}},
			Sinks:   []runtime.TopicID{2, 1},
			Stores:  []int{0},
			NewTask: func(ctx runtime.TaskContext) runtime.Task {
				enc := func(dst []byte, v int64) ([]byte, error) { return binary.BigEndian.AppendUint64(dst, uint64(v)), nil }
				dec := func(b []byte) (int64, error) { return int64(binary.BigEndian.Uint64(b)), nil }
				spec := state.WindowSpec{Size: winSize, Retention: 3 * winSize, SegmentInterval: winSize}
				return &windowCountTask{out: ctx.Out, ws: state.NewWindowStore(ctx.Stores[0], enc, dec, spec, ctx.CacheEntries), streamTime: ctx.StreamTime}
			},
		}},
	}
}

// TestWindowStoreRestore runs a windowed count in the engine on the embedded
// broker, stops it, and starts it again on an empty state directory, so that
// its window store is restored by the engine: by replaying the changelog, or
// from the snapshot of a checkpoint then the changelog's tail. Windows that
// span the restart go on counting from the restored values, and the last count
// of every window equals a brute-force count of the input.
func TestWindowStoreRestore(t *testing.T) {
	for _, from := range []string{"changelog", "snapshot"} {
		t.Run(from, func(t *testing.T) { windowStoreRestore(t, from == "snapshot") })
	}
}

func windowStoreRestore(t *testing.T, fromSnapshot bool) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "clicks"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("clicks"),
		kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	want := map[string]int64{} // brute force: the count of every key@start
	last := map[string]int64{} // the last count of every key@start read from out
	seen := 0
	// produce writes n clicks from time t0 on, 10 ms apart, over 5 keys, and
	// waits until out holds a result for each.
	produce := func(t0 int64, n int) {
		for i := range n {
			ts := t0 + int64(i)*10
			key := fmt.Sprintf("user-%d", i%5)
			r := &kgo.Record{Key: []byte(key), Value: []byte("click"), Timestamp: time.UnixMilli(ts)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
			want[fmt.Sprintf("%s@%d", key, ts-ts%winSize)]++
		}
		for target := seen + n; seen < target; {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatalf("reading out: %v (%d of %d results)", err, seen, target)
			}
			fs.EachRecord(func(r *kgo.Record) {
				v, _ := strconv.ParseInt(string(r.Value), 10, 64)
				last[string(r.Key)] = v
				seen++
			})
		}
	}
	snapshots := "file://" + t.TempDir()
	var logs *startLog
	run := func(work func()) []string {
		logs = &startLog{}
		cfg := Config{Brokers: c.ListenAddrs(), AppID: "wc", StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond,
			Logger: slog.New(logs), Snapshots: snapshots}
		if fromSnapshot {
			cfg.Cluster.CheckpointInterval = 200 * time.Millisecond
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- Run(rctx, windowCountProgram(), cfg) }()
		work()
		stop()
		if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("engine: %v", err)
		}
		return logs.stateFrom()
	}
	// 400 clicks over 4 s, then 400 more from 3.5 s on in a new process with no
	// local state: the windows of 3 s (and 2 s, retained) continue after the restore.
	run(func() {
		produce(1_000_000, 400)
		if fromSnapshot {
			waitForSnapshots(ctx, t, strings.TrimPrefix(snapshots, "file://"), "wc", "0_0", "0_1")
		}
	})
	progressEvery = time.Nanosecond // a progress line at every write of a download
	defer func() { progressEvery = 0 }()
	restored := run(func() { produce(1_003_500, 400) })
	if fromSnapshot {
		checkDownloadProgress(t, logs.downloads(), "0_0", "0_1")
	}
	wantFrom := "full changelog replay"
	if fromSnapshot {
		wantFrom = "snapshot of checkpoint"
	}
	if len(restored) != 2 || !strings.HasPrefix(restored[0], wantFrom) || !strings.HasPrefix(restored[1], wantFrom) {
		t.Errorf("the tasks' state came from %q, want %s", restored, wantFrom)
	}
	for k, n := range want {
		if last[k] != n {
			t.Errorf("window %s: last count %d, want %d", k, last[k], n)
		}
	}
	if len(last) != len(want) {
		t.Errorf("%d windows in the output, want %d", len(last), len(want))
	}
	// The window of 3 s counted clicks of both processes.
	if n := last["user-0@1003000"]; n != 30 {
		t.Errorf("user-0's window at 3 s counted %d, want 20 before the restart + 10 after", n)
	}
	if !fromSnapshot {
		checkWindowChangelogConfigs(ctx, t, cl)
	}
}

// checkWindowChangelogConfigs checks that the engine created the window
// store's changelog compacted and deleted by time.
func checkWindowChangelogConfigs(ctx context.Context, t *testing.T, cl *kgo.Client) {
	t.Helper()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, "wc-counts-changelog")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("wc-counts-changelog", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe changelog configs: %v %v", err, rc.Err)
	}
	got := map[string]string{}
	for _, c := range rc.Configs {
		if c.Value != nil {
			got[c.Key] = *c.Value
		}
	}
	if got["cleanup.policy"] != "compact,delete" || got["retention.ms"] != "86403000" {
		t.Errorf("changelog cleanup.policy=%q retention.ms=%q, want compact,delete and 86403000 (3 s + 1 day)", got["cleanup.policy"], got["retention.ms"])
	}
}

// waitForSnapshots waits until the file snapshot store in dir holds a manifest
// of every one of the tasks.
func waitForSnapshots(ctx context.Context, t *testing.T, dir, app string, tasks ...string) {
	t.Helper()
	for _, task := range tasks {
		// <app>/tasks/<task>/<checkpoint>/<manifest>, of any checkpoint.
		pattern := filepath.Join(dir, app, "tasks", task, "*", path.Base(snapshot.ManifestKey(app, task, 0)))
		for {
			if found, _ := filepath.Glob(pattern); len(found) > 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no snapshot of task %s in %s", task, dir)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// checkDownloadProgress checks that the snapshot download of each task
// logged its progress in bytes, growing, up to all of the snapshot's bytes.
func checkDownloadProgress(t *testing.T, lines []map[string]string, tasks ...string) {
	t.Helper()
	for _, task := range tasks {
		var last map[string]string
		var prev int64
		for _, l := range lines {
			if l["task"] != task {
				continue
			}
			done, _ := strconv.ParseInt(l["bytes_done"], 10, 64)
			if done < prev || l["bytes_total"] == "" || l["checkpoint"] == "" {
				t.Errorf("task %s: download progress %v after %d bytes", task, l, prev)
			}
			prev, last = done, l
		}
		if last == nil || last["bytes_done"] != last["bytes_total"] || last["percent"] != "100" {
			t.Errorf("task %s: last download progress line %v, want every byte done", task, last)
		}
		t.Logf("task %s: last download progress line %v", task, last)
	}
}

// startLog is a slog handler that keeps where each started task's state came
// from, and the snapshot downloads' progress lines.
type startLog struct {
	mu       sync.Mutex
	from     []string
	download []map[string]string
}

func (l *startLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *startLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *startLog) WithGroup(string) slog.Handler            { return l }
func (l *startLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "downloading snapshot" {
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		l.mu.Lock()
		l.download = append(l.download, m)
		l.mu.Unlock()
	}
	if r.Message == "task started" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "state_from" {
				l.mu.Lock()
				l.from = append(l.from, a.Value.String())
				l.mu.Unlock()
			}
			return true
		})
	}
	return nil
}

func (l *startLog) downloads() []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.download)
}

func (l *startLog) stateFrom() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.from)
}
