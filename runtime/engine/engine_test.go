package engine

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gofka/streams/runtime"
)

// copyTask forwards every record of either source to its one sink.
type copyTask struct {
	out     runtime.Emitter
	current int
}

func (t *copyTask) Current() int      { return t.current }
func (t *copyTask) Flush() error      { return nil }
func (t *copyTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *copyTask) Process(source int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		t.out.Emit(2, batch[i].Key, batch[i].Value, batch[i].Timestamp)
	}
	return nil
}

// mergeProgram reads topics a and b in one sub-topology, as a Merge does.
func mergeProgram() *runtime.Program {
	return &runtime.Program{
		Name: "Merge", DefaultAppID: "merge",
		Topics: []runtime.TopicSpec{{Name: "a", Kind: runtime.SourceTopic}, {Name: "b", Kind: runtime.SourceTopic}, {Name: "out", Kind: runtime.SinkTopic}},
		SubTopologies: []runtime.SubTopologySpec{{
			ID:      0,
			Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}, {Topics: []runtime.TopicID{1}}},
			Sinks:   []runtime.TopicID{2},
			NewTask: func(ctx runtime.TaskContext) runtime.Task { return &copyTask{out: ctx.Out} },
		}},
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestCoPartitioningMismatch: inputs read together with different partition
// counts are a clear start-up error, before anything is consumed.
func TestCoPartitioningMismatch(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "a"), kfake.SeedTopics(3, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = Run(ctx, mergeProgram(), Config{Brokers: c.ListenAddrs(), AppID: "merge", StateDir: t.TempDir(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "co-partitioning mismatch in sub-topology 0: a has 2 partitions but b has 3") {
		t.Fatalf("err = %v", err)
	}
}

// TestMissingSourceTopic: on a real broker (no topic creation) a missing input
// topic is named in the error.
func TestMissingSourceTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = Run(ctx, mergeProgram(), Config{Brokers: c.ListenAddrs(), AppID: "merge", StateDir: t.TempDir(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "source topics do not exist: [b]") {
		t.Fatalf("err = %v", err)
	}
}
