package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/kafkaconf"
	"github.com/gofka/streams/state/rocks"
)

// BenchmarkGlobalRestore reads a global table's whole topic (200,000 records
// of 100-byte values, 3 partitions, embedded broker in this process) into a
// fresh store, as a replica's first start does: RocksDB and memory.
//
//	go test ./runtime/engine -run XXX -bench GlobalRestore -benchtime 3x
func BenchmarkGlobalRestore(b *testing.B) {
	const n = 200_000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "dim"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("dim"), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := make([]byte, 100)
	for i := 0; i < n; i += 1000 {
		recs := make([]*kgo.Record, 0, 1000)
		for j := i; j < i+1000; j++ {
			recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "key-%07d", j), Value: value})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	for _, persistent := range []bool{true, false} {
		b.Run(fmt.Sprintf("persistent=%v", persistent), func(b *testing.B) {
			prog := &runtime.Program{Topics: []runtime.TopicSpec{{Name: "dim", Kind: runtime.SourceTopic}},
				Globals: []runtime.GlobalSpec{{Name: "dim", Topic: 0, Persistent: persistent}}}
			for b.Loop() {
				b.StopTimer()
				mem, _ := rocks.SplitBudget(256 << 20)
				pool, err := rocks.OpenPool(filepath.Join(b.TempDir(), "state"), mem)
				if err != nil {
					b.Fatal(err)
				}
				e := &Engine{cfg: Config{Brokers: c.ListenAddrs(), CommitInterval: 1 << 40}, prog: prog, log: quietLogger(),
					metrics: newMetrics(), pool: pool, producer: cl, adm: kadm.NewClient(cl),
					topics: []*topicInfo{{name: "dim", kind: runtime.SourceTopic, partitions: 3}}}
				e.watch = kafkaconf.NewWatch(nil)
				b.StartTimer()
				if err := e.startGlobals(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := e.globals.tables[0].restored; got != n {
					b.Fatalf("restored %d records, want %d", got, n)
				}
				e.closeGlobals()
				pool.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
