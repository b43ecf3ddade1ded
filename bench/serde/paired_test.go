package serde

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// BenchmarkSerdePaired measures the ratios on a busy machine: each iteration
// is a round that times a batch of every implementation back to back, so
// that load changes between runs hit all of them alike; it reports, per
// record, operation and implementation, the median over the rounds of the
// implementation's time over the generated serde's (higher: generated is
// faster). Run it with -benchtime 30x.
func BenchmarkSerdePaired(b *testing.B) {
	type runner struct {
		key string // record-op-impl
		run func(n int)
	}
	var runners []runner
	add := func(record string, encode func(impl int, n int), decode func(impl int, n int), names []string) {
		for i, name := range names {
			runners = append(runners,
				runner{record + "-decode-" + name, func(n int) { decode(i, n) }},
				runner{record + "-encode-" + name, func(n int) { encode(i, n) }})
		}
	}
	add(pairedCase(b, click, impls[Click](gofkaJSONClick{})))
	add(pairedCase(b, bid, impls[Bid](gofkaJSONBid{})))

	const batch = 300
	ratios := map[string][]float64{}
	for b.Loop() {
		took := map[string]time.Duration{}
		for _, r := range runners {
			start := time.Now()
			r.run(batch)
			took[r.key] = time.Since(start)
		}
		for _, r := range runners {
			gen := took[r.key[:lastDash(r.key)]+"-generated"]
			ratios[r.key] = append(ratios[r.key], float64(took[r.key])/float64(gen))
		}
	}
	for _, r := range runners {
		xs := ratios[r.key]
		slices.Sort(xs)
		b.ReportMetric(xs[len(xs)/2], r.key+"/gen")
	}
}

func lastDash(key string) int {
	// record-op-impl, where impl may itself contain dashes: cut after op.
	n := 0
	for i := range key {
		if key[i] == '-' {
			n++
			if n == 2 {
				return i
			}
		}
	}
	return len(key)
}

// pairedCase returns functions that run n encodes or decodes of v with
// implementation i, and the implementations' names.
func pairedCase[T any](b *testing.B, v T, impls []impl[T]) (string, func(int, int), func(int, int), []string) {
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, len(impls))
	for i, im := range impls {
		names[i] = im.name
	}
	buf := make([]byte, 0, 512)
	var fresh, zero T
	encode := func(i, n int) {
		for range n {
			if buf, err = impls[i].encode(buf[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	}
	decode := func(i, n int) {
		for range n {
			fresh = zero
			if err := impls[i].decode(data, &fresh); err != nil {
				b.Fatal(err)
			}
		}
	}
	record := "click"
	if _, isBid := any(v).(Bid); isBid {
		record = "bid"
	}
	return record, encode, decode, names
}
