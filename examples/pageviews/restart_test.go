package main

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// finals collects the final results a task emits, by window.
type finals struct {
	topic runtime.TopicID
	got   map[string]int64 // windowed key bytes -> count
	n     int              // records, repeats included
}

func (f *finals) Emit(topic runtime.TopicID, key, value []byte, _ int64) {
	if topic == f.topic {
		f.got[string(key)] = int64(binary.BigEndian.Uint64(value))
		f.n++
	}
}

// taskOver makes the program's task on backends, resuming at streamTime, as a
// restarted replica does from its local state.
func taskOver(t *testing.T, out runtime.Emitter, backends []state.Backend, streamTime int64) runtime.Task {
	t.Helper()
	return CompiledPageViews().SubTopologies[0].NewTask(runtime.TaskContext{Out: out, Stores: backends, StreamTime: streamTime})
}

func records(vs []view) []runtime.Record {
	out := make([]runtime.Record, len(vs))
	for i, v := range vs {
		out[i] = runtime.Record{Topic: "page-views", Offset: int64(i), Timestamp: v.ts, Key: []byte(v.page), Value: []byte(fmt.Sprint(v.id))}
	}
	return out
}

// changelog is a store's changelog topic: what its Logged backend wrote.
type changelog struct{ keys, values [][]byte }

func (c *changelog) log(key, value []byte) {
	c.keys, c.values = append(c.keys, bytes.Clone(key)), append(c.values, bytes.Clone(value))
}

// restore replays the first n records of the changelog into a new backend.
func (c *changelog) restore(t *testing.T, n int) state.Backend {
	b := state.NewMemoryBackend()
	for i := range n {
		var err error
		if c.values[i] == nil {
			err = b.Delete(c.keys[i])
		} else {
			err = b.Put(c.keys[i], c.values[i])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestEmitFinalSurvivesCrash: a task that dies between two commits, without
// flushing, and restarts from its stores' changelogs as of the last commit,
// replaying the input from there (at-least-once), emits every window's final
// result: the same results as a run without a crash, some of them twice.
func TestEmitFinalSurvivesCrash(t *testing.T) {
	in := records(views(3000))
	var finalTopic runtime.TopicID
	for i, tp := range CompiledPageViews().Topics {
		if tp.Name == "page-views-per-minute-final" {
			finalTopic = runtime.TopicID(i)
		}
	}
	newBackends := func() []state.Backend { return []state.Backend{state.NewMemoryBackend(), state.NewMemoryBackend()} }

	whole := &finals{topic: finalTopic, got: map[string]int64{}}
	task := taskOver(t, whole, newBackends(), runtime.NoTimestamp)
	if err := task.Process(0, in); err != nil {
		t.Fatal(err)
	}

	crashed := &finals{topic: finalTopic, got: map[string]int64{}}
	logs := []*changelog{{}, {}}
	backends := []state.Backend{
		&state.Logged{Backend: state.NewMemoryBackend(), Log: logs[0].log},
		&state.Logged{Backend: state.NewMemoryBackend(), Log: logs[1].log},
	}
	task = taskOver(t, crashed, backends, runtime.NoTimestamp)
	const commit, crash = 1000, 1700
	if err := task.Process(0, in[:commit]); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(); err != nil { // the commit: state and stream time as of record 1000
		t.Fatal(err)
	}
	committedTime, committedLogs := task.StreamTime(), []int{len(logs[0].keys), len(logs[1].keys)}
	if err := task.Process(0, in[commit:crash]); err != nil { // then the task dies: no Flush
		t.Fatal(err)
	}
	before := crashed.n
	restored := []state.Backend{logs[0].restore(t, committedLogs[0]), logs[1].restore(t, committedLogs[1])}
	task = taskOver(t, crashed, restored, committedTime)
	if err := task.Process(0, in[commit:]); err != nil { // replayed from the commit
		t.Fatal(err)
	}
	if len(whole.got) == 0 || crashed.n <= before {
		t.Fatalf("%d final results without a crash, %d after the restart: not a useful test", len(whole.got), crashed.n-before)
	}
	for k, n := range whole.got {
		if got, ok := crashed.got[k]; !ok || got != n {
			t.Errorf("window %q: final count %d (present %v) with a crash, %d without", k, got, ok, n)
		}
	}
	if len(crashed.got) != len(whole.got) {
		t.Errorf("%d windows with a crash, %d without", len(crashed.got), len(whole.got))
	}
	t.Logf("%d windows' final results; with a crash %d records (%d repeats)", len(whole.got), crashed.n, crashed.n-whole.n)
}

// TestShuffledWithinGraceSameFinals: views shuffled by less than the grace give
// the same final results as the same views sorted by time.
func TestShuffledWithinGraceSameFinals(t *testing.T) {
	var finalTopic runtime.TopicID
	for i, tp := range CompiledPageViews().Topics {
		if tp.Name == "page-views-per-minute-final" {
			finalTopic = runtime.TopicID(i)
		}
	}
	run := func(vs []view) map[string]int64 {
		f := &finals{topic: finalTopic, got: map[string]int64{}}
		task := taskOver(t, f, []state.Backend{state.NewMemoryBackend(), state.NewMemoryBackend()}, runtime.NoTimestamp)
		if err := task.Process(0, records(vs)); err != nil {
			t.Fatal(err)
		}
		if f.n != len(f.got) {
			t.Fatalf("%d final records for %d windows: a window emitted twice", f.n, len(f.got))
		}
		return f.got
	}
	sorted := make([]view, 3000)
	for i := range sorted {
		sorted[i] = view{page: fmt.Sprintf("/page/%d", i%7), ts: 1_700_000_000_000 + int64(i)*400, id: i}
	}
	// Shuffle: order the views by their index plus a random 0 to 19, so that a
	// view comes after at most 19 later ones (7.6 s of stream time), less than the
	// 10 s grace.
	shuffled := slices.Clone(sorted)
	rng := rand.New(rand.NewPCG(3, 4))
	place := make([]float64, len(shuffled))
	for i := range place {
		place[i] = float64(i) + 20*rng.Float64()
	}
	slices.SortFunc(shuffled, func(a, b view) int { return cmp.Compare(place[a.id], place[b.id]) })
	if slices.Equal(shuffled, sorted) {
		t.Fatal("the shuffle changed nothing")
	}
	want, got := run(sorted), run(shuffled)
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("final results of shuffled views differ from sorted ones:\n got %v\nwant %v", got, want)
	}
}
