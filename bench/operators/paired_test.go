package operators

import (
	goruntime "runtime"
	"slices"
	"testing"
)

// BenchmarkPairedRatios runs the four implementations alternately, one pass of
// NumRecords records each per op, and reports the ratios of their rates paired
// pass by pass: the median over ops of (handwritten time / generated time) and so
// on. BenchmarkClickCount runs each implementation for a second or more before the
// next, so on a shared machine a burst of load that hits one of them skews the
// ratios; here all four see the same load within a few hundred milliseconds, and
// each pass is timed by the CPU time of its own thread where the OS says it
// (Linux), so time the thread spent descheduled is not counted. Run it with
// enough ops for a median:
//
//	cd bench && go test -run XXX -bench PairedRatios -benchtime 30x ./operators
//
// Metrics: gen/hw and gen/chain are the generated code's rate over the
// hand-written loop's and the interface chain's (the targets are >= 0.8 and >= 3),
// hw/chain is the hand-written loop's over the chain's (the ceiling for gen/chain
// if the generated code matched the hand-written loop), gen/library-chain and
// hw/library-chain the same two over the library chain's (librarychain.go, the
// chain as Go libraries without a compiler run it), and <impl>-ns/record the
// median time per record of each.
func BenchmarkPairedRatios(b *testing.B) {
	in := clicks()
	xs := make([]implementation, len(implementations))
	for i, impl := range implementations {
		xs[i] = impl.new(b)
		if err := xs[i].Run(in); err != nil { // warm-up: every user is now known
			b.Fatal(err)
		}
	}
	goruntime.LockOSThread() // so the thread's CPU time is the passes'
	defer goruntime.UnlockOSThread()
	times := make([][]float64, len(xs)) // ns per record, per pass
	for b.Loop() {
		for i, x := range xs {
			start := threadTime()
			if err := x.Run(in); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], float64(threadTime()-start)/float64(len(in)))
		}
	}
	const gen, hw, chain, lib = 0, 1, 2, 3 // order of implementations
	if len(implementations) != 4 || implementations[gen].name != "generated" || implementations[hw].name != "handwritten" ||
		implementations[chain].name != "interface-chain" || implementations[lib].name != "library-chain" {
		b.Fatal("implementations are not generated, handwritten, interface-chain, library-chain in that order")
	}
	ratio := func(num, den int) float64 { // median of times[num]/times[den], pass by pass
		r := make([]float64, len(times[num]))
		for j := range r {
			r[j] = times[num][j] / times[den][j]
		}
		return median(r)
	}
	b.ReportMetric(ratio(hw, gen), "gen/hw")
	b.ReportMetric(ratio(chain, gen), "gen/chain")
	b.ReportMetric(ratio(chain, hw), "hw/chain")
	b.ReportMetric(ratio(lib, gen), "gen/library-chain")
	b.ReportMetric(ratio(lib, hw), "hw/library-chain")
	for i, impl := range implementations {
		b.ReportMetric(median(times[i]), impl.name+"-ns/record")
	}
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
