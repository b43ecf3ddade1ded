package main

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime/engine/enginetest"
)

// The tests and benchmarks below run click-count through the real engine
// against an embedded broker in a child process (enginetest), and count the
// allocations of this process per input click in steady state:
//
//	go test -run XXX -bench Engine -benchtime 200000x -benchmem ./examples/clickcount/
//
// ns/op and allocs/op are then per click (the warm-up is outside the timer).

func TestMain(m *testing.M) {
	enginetest.MaybeBroker()
	os.Exit(m.Run())
}

// clickWorkload is n clicks after a warm-up of as many (enginetest.Warmup),
// as JSON, keyed by click id.
func clickWorkload(n int, exactlyOnce bool) enginetest.Workload {
	warmup := enginetest.Warmup(n)
	cs := clicks(n + warmup)
	recs := make([]*kgo.Record, len(cs))
	real := make([]int64, len(cs)+1) // real[i]: real clicks among the first i
	for i, c := range cs {
		v, _ := json.Marshal(c)
		recs[i] = &kgo.Record{Key: fmt.Appendf(nil, "click-%d", i), Value: v}
		real[i+1] = real[i]
		if !c.Bot {
			real[i+1]++
		}
	}
	return enginetest.Workload{
		Program: CompiledClickCount(), Input: "user-clicks", Records: recs, Warmup: warmup,
		Last: func(n int) int64 { return real[n] }, Partitions: 4, ExactlyOnce: exactlyOnce,
	}
}

func guaranteeName(exactlyOnce bool) string {
	if exactlyOnce {
		return "exactly-once"
	}
	return "at-least-once"
}

// BenchmarkEngine: click-count through the engine, per input click.
func BenchmarkEngine(b *testing.B) {
	for _, eos := range []bool{false, true} {
		b.Run(guaranteeName(eos), func(b *testing.B) {
			b.StopTimer()
			w := clickWorkload(b.N, eos)
			r := enginetest.Measure(b, enginetest.StartBroker(b, 4), w, enginetest.Window{Start: b.StartTimer, Stop: b.StopTimer})
			b.ReportMetric(r.RecordsPerSecond(), "records/s")
			b.ReportMetric(float64(r.CPUPerRecord().Nanoseconds()), "cpu-ns/record")
		})
	}
}
