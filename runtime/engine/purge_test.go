package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// relayTask forwards every record to topic `to`.
type relayTask struct {
	out     runtime.Emitter
	to      runtime.TopicID
	current int
}

func (t *relayTask) Current() int      { return t.current }
func (t *relayTask) Flush() error      { return nil }
func (t *relayTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *relayTask) Process(_ int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		t.out.Emit(t.to, batch[i].Key, batch[i].Value, batch[i].Timestamp)
	}
	return nil
}

// relayProgram is in ─▶ sub-topology 0 ─▶ repartition topic rep ─▶ sub-topology 1 ─▶ out.
func relayProgram() *runtime.Program {
	return &runtime.Program{
		Name: "Relay", DefaultAppID: "relay",
		Topics: []runtime.TopicSpec{{Name: "in", Kind: runtime.SourceTopic}, {Name: "rep", Kind: runtime.RepartitionTopic}, {Name: "out", Kind: runtime.SinkTopic}},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1},
				NewTask: func(ctx runtime.TaskContext) runtime.Task { return &relayTask{out: ctx.Out, to: 1} }},
			{ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{1}}}, Sinks: []runtime.TopicID{2},
				NewTask: func(ctx runtime.TaskContext) runtime.Task { return &relayTask{out: ctx.Out, to: 2} }},
		},
	}
}

// TestRepartitionPurge: records of July 2015 go through a repartition topic,
// which is created with retention.ms=-1, and once committed they are deleted
// from it (its start offset moves to the committed one), while every record
// still reaches the output.
func TestRepartitionPurge(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("in"), kgo.ConsumeTopics("out"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 200
	for i := range n {
		r := &kgo.Record{Key: []byte{byte(i)}, Value: []byte("v"), Timestamp: time.UnixMilli(1436918400000 + int64(i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(rctx, relayProgram(), Config{Brokers: c.ListenAddrs(), AppID: "relay", StateDir: t.TempDir(), Logger: quietLogger(),
			CommitInterval: 50 * time.Millisecond, RepartitionPurgeInterval: 100 * time.Millisecond})
	}()
	for seen := 0; seen < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading out: %v (%d of %d records)", err, seen, n)
		}
		seen += fs.NumRecords()
	}
	adm := kadm.NewClient(cl)
	const rep = "relay-rep"
	for {
		starts, err := adm.ListStartOffsets(ctx, rep)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := starts.Lookup(rep, 0); ok && o.Err == nil && o.Offset >= n {
			break // every relayed record was committed, then deleted
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the repartition topic's start offset never reached %d: %v", n, starts)
		case <-time.After(50 * time.Millisecond):
		}
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(rep, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", rep, err, rc.Err)
	}
	retention := ""
	for _, cfg := range rc.Configs {
		if cfg.Key == "retention.ms" && cfg.Value != nil {
			retention = *cfg.Value
		}
	}
	if retention != "-1" {
		t.Errorf("%s: retention.ms %q, want -1", rep, retention)
	}
	stop()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("engine: %v", err)
	}
}
