package engine_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/engine/enginetest"
	"github.com/gofka/streams/state"
)

// The runtime path allocates nothing per record in steady state: a topology
// shaped like click-count (filter, repartition, an aggregate in a RocksDB
// store with a changelog, a sink) whose serdes do not allocate (string keys
// aliasing the fetched bytes, int64 values), run through the engine against
// an embedded broker, under both guarantees.

func TestMain(m *testing.M) {
	enginetest.MaybeBroker()
	os.Exit(m.Run())
}

// TestNoAllocationPerRecord fails if the runtime path allocates per record
// again. Allocation counts do not depend on timing the way durations do: the
// bound has room for per-batch work at any batch size the engine reaches.
// Under the race detector it checks only that the records get through (with
// the pools' goroutines watched for races), not the count.
func TestNoAllocationPerRecord(t *testing.T) {
	for _, eos := range []bool{false, true} {
		t.Run(fmt.Sprintf("exactly-once=%v", eos), func(t *testing.T) {
			r := enginetest.Measure(t, enginetest.StartBroker(t, 4), sumWorkload(200_000, eos), enginetest.Window{})
			t.Log(r)
			if r.AllocsPerRecord() > enginetest.MaxRuntimeAllocsPerRecord && !enginetest.RaceEnabled {
				t.Errorf("%.3f allocations per record in steady state, want at most %.2f (go test -run XXX -bench EngineSum -memprofile m.prof, then go tool pprof -sample_index=alloc_objects m.prof)",
					r.AllocsPerRecord(), enginetest.MaxRuntimeAllocsPerRecord)
			}
		})
	}
}

// BenchmarkEngineSum: the sum topology through the engine, per input record.
func BenchmarkEngineSum(b *testing.B) {
	for _, eos := range []bool{false, true} {
		b.Run(fmt.Sprintf("exactly-once=%v", eos), func(b *testing.B) {
			b.StopTimer()
			r := enginetest.Measure(b, enginetest.StartBroker(b, 4), sumWorkload(b.N, eos), enginetest.Window{Start: b.StartTimer, Stop: b.StopTimer})
			b.ReportMetric(r.RecordsPerSecond(), "records/s")
			b.ReportMetric(float64(r.CPUPerRecord().Nanoseconds()), "cpu-ns/record")
		})
	}
}

// sumWorkload is n amounts after a warm-up of as many (enginetest.Warmup),
// of 50 users, every tenth negative (filtered out), keyed by user.
func sumWorkload(n int, exactlyOnce bool) enginetest.Workload {
	warmup := enginetest.Warmup(n)
	recs := make([]*kgo.Record, n+warmup)
	kept := make([]int64, len(recs)+1) // kept[i]: amounts kept among the first i
	for i := range recs {
		amount := int64(i % 7)
		if i%10 == 0 {
			amount = -1
		}
		recs[i] = &kgo.Record{Key: fmt.Appendf(nil, "user-%d", i%50), Value: binary.BigEndian.AppendUint64(nil, uint64(amount))}
		kept[i+1] = kept[i]
		if amount >= 0 {
			kept[i+1]++
		}
	}
	return enginetest.Workload{
		Program: sumProgram(), Input: "amounts", Records: recs, Warmup: warmup,
		Last: func(n int) int64 { return kept[n] }, Partitions: 4, ExactlyOnce: exactlyOnce,
		CommitInterval: 200 * time.Millisecond,
	}
}

// sumProgram is what gofkagen would make of
//
//	b.Stream(streams.With(streams.String(), streams.Int64()), "amounts").
//		Filter(notNegative).
//		GroupByKey(). // repartitioned: the key may have changed upstream
//		Reduce(sum, streams.RocksDBStore("sums")).
//		ToStream().To("user-sums")
//
// written the way it writes tasks.
func sumProgram() *runtime.Program {
	return &runtime.Program{
		Name: "Sum", DefaultAppID: "sum",
		Topics: []runtime.TopicSpec{
			{Name: "amounts", Kind: runtime.SourceTopic, Types: runtime.TypesOf[string, int64]()},
			{Name: "sums-repartition", Kind: runtime.RepartitionTopic, Types: runtime.TypesOf[string, int64]()},
			{Name: "user-sums", Kind: runtime.SinkTopic, Types: runtime.TypesOf[string, int64]()},
			{Name: "sums-changelog", Kind: runtime.ChangelogTopic, Types: runtime.TypesOf[string, int64]()},
		},
		Stores: []runtime.StoreSpec{{Name: "sums", Changelog: 3, Persistent: true, SubTopology: 1}},
		SubTopologies: []runtime.SubTopologySpec{{
			ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1},
			NewTask: func(ctx runtime.TaskContext) runtime.Task { return &filterTask{out: ctx.Out} },
		}, {
			ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{1}}}, Sinks: []runtime.TopicID{2}, Stores: []int{0},
			NewTask: func(ctx runtime.TaskContext) runtime.Task {
				return &sumTask{out: ctx.Out, store: state.NewCache[int64](ctx.Stores[0], int64Serde.Encode, int64Serde.Decode, ctx.CacheEntries)}
			},
		}},
	}
}

var (
	stringSerde = streams.StringSerde[string]{}
	int64Serde  = streams.IntSerde[int64]{}
)

// filterTask drops negative amounts and repartitions the rest by user.
type filterTask struct {
	out      runtime.Emitter
	current  int
	valueBuf []byte
}

func (t *filterTask) Current() int      { return t.current }
func (t *filterTask) Flush() error      { return nil }
func (t *filterTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *filterTask) Process(_ int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		r := &batch[i]
		k, err := stringSerde.Decode(r.Key)
		if err != nil {
			return r.Fail("decode key", err)
		}
		v, err := int64Serde.Decode(r.Value)
		if err != nil {
			return r.Fail("decode value", err)
		}
		if v < 0 {
			continue
		}
		if t.valueBuf, err = int64Serde.Encode(t.valueBuf[:0], v); err != nil {
			return r.Fail("encode value", err)
		}
		t.out.Emit(1, runtime.StringBytes(k), t.valueBuf, r.Timestamp)
	}
	return nil
}

// sumTask sums the amounts per user in store "sums" and sends every new sum on.
type sumTask struct {
	out      runtime.Emitter
	current  int
	valueBuf []byte
	store    *state.Cache[int64]
}

func (t *sumTask) Current() int      { return t.current }
func (t *sumTask) Flush() error      { return t.store.Flush() }
func (t *sumTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *sumTask) Process(_ int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		r := &batch[i]
		k, err := stringSerde.Decode(r.Key)
		if err != nil {
			return r.Fail("decode key", err)
		}
		v, err := int64Serde.Decode(r.Value)
		if err != nil {
			return r.Fail("decode value", err)
		}
		slot, err := t.store.Slot(runtime.StringBytes(k))
		if err != nil {
			return r.Fail("read store sums", err)
		}
		sum, _ := slot.Value()
		sum += v
		t.store.Set(slot, sum)
		if t.valueBuf, err = int64Serde.Encode(t.valueBuf[:0], sum); err != nil {
			return r.Fail("encode value", err)
		}
		t.out.Emit(2, runtime.StringBytes(k), t.valueBuf, r.Timestamp)
	}
	return nil
}
