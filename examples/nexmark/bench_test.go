package main

import (
	"bytes"
	"testing"

	"github.com/gofka/streams/examples/nexmark/generator"
	"github.com/gofka/streams/examples/nexmark/queries"
	"github.com/gofka/streams/runtime"
)

// benchEvents is how many events one benchmark op runs through a query.
const benchEvents = 100_000

// BenchmarkNexmark is issue 15's point 8a, in process: per query, the events
// are generated and encoded ahead (JSON lines as record values, in memory);
// one op runs them all through the query's generated tasks (queries.Runner, a
// fresh one per op, so state starts empty) as `nexmark query` does (batches of
// 500 with the watermark after each, a commit every 10,000 events, then the
// end-of-input mark), into a sink that discards what it gets. Run it on one core:
//
//	go test -run '^$' -bench Nexmark -benchmem -cpu 1 ./examples/nexmark/
//
// events/s is by the wall clock on one core (GOMAXPROCS 1), which a busy
// machine lowers; events/cpu-s divides by the CPU time the process used
// instead (every thread, so the garbage collector's too), which counts only
// what ran: the per-core figure to compare. B/op and allocs/op are per op
// (benchEvents events).
func BenchmarkNexmark(b *testing.B) {
	var buf bytes.Buffer
	if err := generator.New(generator.Default()).Write(&buf, benchEvents); err != nil {
		b.Fatal(err)
	}
	records, mark, err := decodeEvents(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range table {
		b.Run(q.name, func(b *testing.B) {
			p := q.program()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				if err := runAll(p, records, mark); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := cpuTime() - cpu; cpu > 0 {
				b.ReportMetric(float64(b.N*benchEvents)/cpu.Seconds(), "events/cpu-s")
			}
			b.ReportMetric(float64(b.N*benchEvents)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// runAll runs records, then mark, through a fresh runner of p, as `nexmark
// query` does.
func runAll(p *runtime.Program, records []runtime.Record, mark runtime.Record) error {
	r, err := queries.NewRunner(p)
	if err != nil {
		return err
	}
	return feed(r, records, mark, batchSize)
}
