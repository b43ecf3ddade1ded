package joinports

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
	"github.com/gofka/streams/streamstest"
)

// The generated join's glue, measured on the task alone (memory stores, an
// emitter that drops what it is given): records of 1,000 keys, alternately
// left and right, each time 1 ms later, so that each record joins the other
// side's records of its key still in the 100 ms window.

// joinBatches are batches of left records (source 0, topic1) and right records
// (source 1, topic2), b records per batch, over keys keys, times from start.
func joinBatches(batches, b, keys int, start int64) (left, right [][]runtime.Record) {
	ts := start
	for range batches {
		var l, r []runtime.Record
		for i := range b {
			k := binary.BigEndian.AppendUint32(nil, uint32(i%keys))
			l = append(l, runtime.Record{Topic: "topic1", Timestamp: ts, Key: k, Value: []byte("left")})
			r = append(r, runtime.Record{Topic: "topic2", Timestamp: ts, Key: k, Value: []byte("right")})
			ts++
		}
		left, right = append(left, l), append(right, r)
	}
	return left, right
}

func newJoinTask(p *runtime.Program, out runtime.Emitter) runtime.Task {
	st := p.SubTopologies[0]
	stores := make([]state.Backend, len(st.Stores))
	for i := range stores {
		stores[i] = state.NewMemoryBackend()
	}
	return st.NewTask(runtime.TaskContext{Out: out, Stores: stores, StreamTime: runtime.NoTimestamp})
}

// TestJoinAllocations reports the allocations per record of the inner join
// in steady state; a join's stores put every record in their caches (a new
// key and time each), which flush to the backend at Flush.
func TestJoinAllocations(t *testing.T) {
	out := &streamstest.CountingEmitter{}
	task := newJoinTask(CompiledInner100(), out)
	left, right := joinBatches(400, 100, 1000, 0)
	i := 0
	step := func() {
		if err := task.Process(0, left[i%len(left)]); err != nil {
			t.Fatal(err)
		}
		if err := task.Process(1, right[i%len(right)]); err != nil {
			t.Fatal(err)
		}
		if err := task.Flush(); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range 50 { // warm-up: caches and buffers grow to their size
		step()
	}
	allocs := testing.AllocsPerRun(100, step) / 200
	if out.N == 0 {
		t.Fatal("the join emitted nothing: the measure proves nothing")
	}
	t.Logf("%.2f allocations per record (inner join, 100 ms window, memory stores, flushed every 200 records), %d records emitted", allocs, out.N)
}

// BenchmarkJoin: the inner join's task, per input record.
func BenchmarkJoin(b *testing.B) {
	for _, keys := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			out := &streamstest.CountingEmitter{}
			task := newJoinTask(CompiledInner100(), out)
			left, right := joinBatches(max(1, b.N/200)+1, 100, keys, 0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N/200+1; i++ {
				if err := task.Process(0, left[i]); err != nil {
					b.Fatal(err)
				}
				if err := task.Process(1, right[i]); err != nil {
					b.Fatal(err)
				}
				if err := task.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJoinHandWritten is the baseline: the same inner join written by
// hand over decoded records, each side a map from key to its records in time
// order, pruned to the window; no serdes, no stores, no changelog.
func BenchmarkJoinHandWritten(b *testing.B) {
	type rec struct {
		ts int64
		v  string
	}
	for _, keys := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			left, right := joinBatches(max(1, b.N/200)+1, 100, keys, 0)
			sides := [2]map[uint32][]rec{{}, {}}
			emitted := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N/200+1; i++ {
				for s, batch := range [2][]runtime.Record{left[i], right[i]} {
					for j := range batch {
						r := &batch[j]
						k := binary.BigEndian.Uint32(r.Key)
						own := sides[s][k]
						for len(own) > 0 && own[0].ts < r.Timestamp-200 { // before + after
							own = own[1:]
						}
						sides[s][k] = append(own, rec{r.Timestamp, string(r.Value)})
						for _, o := range sides[1-s][k] {
							if o.ts >= r.Timestamp-100 && o.ts <= r.Timestamp+100 {
								if s == 0 {
									_ = toString(string(r.Value), o.v)
								} else {
									_ = toString(o.v, string(r.Value))
								}
								emitted++
							}
						}
					}
				}
			}
			if emitted == 0 {
				b.Fatal("nothing joined")
			}
		})
	}
}
