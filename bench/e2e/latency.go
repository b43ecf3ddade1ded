package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// The latency measurement of the exactly-once benchmark (-eos): input is
// produced at a fixed rate, each record's Kafka timestamp its produce time,
// and a read_committed consumer notes when each output record becomes visible.
//
//	start the contender ─▶ probe: one click per 100 ms until some output is visible
//	  ─▶ paced: -rate clicks/s for -warmup (not measured) and -latency-duration (measured)
//	  ─▶ wait until every real click produced is reflected in the output ─▶ SIGTERM
//	  ─▶ read the output back and check every count
//
// Mapping an output record to the input that caused it: gofka stamps its
// output with the time it emits it, not with the input's timestamp (Kafka
// Streams carries the input's), so timestamps cannot name the input. Counts
// can: the paced producer puts all of a user's clicks in one input partition
// (the partition of the user, not of the click id), so each user's clicks
// reach the count in produce order, through either engine, and count n of user
// u is caused by u's n-th real click. An output with count n makes u's clicks
// up to n visible; each click's latency is (when the first output covering it
// became visible) − (its produce time). With Kafka Streams' record cache one
// output can cover several clicks, each with its own latency, so cached and
// uncached outputs are measured alike. Where the engine carries the input's
// timestamp (Kafka Streams), the mapped input's timestamp is checked against
// the output's: the report shows how many matched.

// latencyResult is one latency measurement.
type latencyResult struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	Produced  int       `json:"produced"`   // clicks produced, probes included
	Measured  int       `json:"measured"`   // real clicks in the measured phase: one latency each
	Rate      float64   `json:"rate"`       // achieved clicks/s of the paced phase
	P50       float64   `json:"p50_ms"`     // milliseconds
	P99       float64   `json:"p99_ms"`     //
	Max       float64   `json:"max_ms"`     //
	TSChecked int       `json:"ts_checked"` // output records whose mapped input was known
	TSEqual   int       `json:"ts_equal"`   // … whose timestamp was that input's
	samples   []float64 // milliseconds, one per measured real click
}

// latencyTrace maps outputs to the inputs that caused them.
type latencyTrace struct {
	mu       sync.Mutex
	inputs   map[string][]traced // each user's real clicks, in produce order
	covered  map[string]int      // each user's clicks reflected in visible output
	total    int                 // sum of covered
	real     int                 // real clicks produced
	samples  []float64
	checked  int
	equalTS  int
	unmapped int // counts above the clicks produced: the mapping (or the output) is wrong
}

type traced struct {
	at       time.Time
	measured bool
}

func newLatencyTrace() *latencyTrace {
	return &latencyTrace{inputs: map[string][]traced{}, covered: map[string]int{}}
}

// produced records a real click of user produced at at.
func (lt *latencyTrace) produced(user string, at time.Time, measured bool) {
	lt.mu.Lock()
	lt.inputs[user] = append(lt.inputs[user], traced{at: at, measured: measured})
	lt.real++
	lt.mu.Unlock()
}

// seen takes an output record that became visible at at.
func (lt *latencyTrace) seen(r *kgo.Record, at time.Time) {
	n, err := decodeCount(r.Value)
	if err != nil {
		return // verify reports it
	}
	user := string(r.Key)
	lt.mu.Lock()
	defer lt.mu.Unlock()
	in := lt.inputs[user]
	if int(n) > len(in) {
		lt.unmapped++
		return
	}
	lt.checked++
	if r.Timestamp.UnixMilli() == in[n-1].at.UnixMilli() {
		lt.equalTS++
	}
	for k := lt.covered[user]; k < int(n); k++ {
		if in[k].measured {
			lt.samples = append(lt.samples, float64(at.Sub(in[k].at).Microseconds())/1000)
		}
	}
	if int(n) > lt.covered[user] {
		lt.total += int(n) - lt.covered[user]
		lt.covered[user] = int(n)
	}
}

// caughtUp: every real click produced is reflected in visible output.
func (lt *latencyTrace) caughtUp() bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.total == lt.real
}

// pacer produces w's clicks in order, each to the partition of its user, with
// its produce time as its timestamp.
type pacer struct {
	w          *workload
	cl         *kgo.Client
	topic      string
	partitions int32
	trace      *latencyTrace
	next       int
	err        error
	mu         sync.Mutex
}

func (p *pacer) produce(ctx context.Context, measured bool) error {
	if p.next >= len(p.w.keys) {
		return fmt.Errorf("the workload has only %d clicks: raise -n", len(p.w.keys))
	}
	i := p.next
	p.next++
	now := time.Now()
	user := p.w.users[i]
	if !p.w.bots[i] {
		p.trace.produced(user, now, measured)
	}
	r := &kgo.Record{Topic: p.topic, Partition: runtime.Partition([]byte(user), p.partitions),
		Key: p.w.keys[i], Value: p.w.values[i], Timestamp: now}
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
		}
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// paced produces rate clicks/s for d, measured or not, and returns the rate it
// achieved.
func (p *pacer) paced(ctx context.Context, rate float64, d time.Duration, measured bool) (float64, error) {
	start := time.Now()
	sent := 0
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			return float64(sent) / elapsed.Seconds(), nil
		}
		for due := int(elapsed.Seconds() * rate); sent < due; sent++ {
			if err := p.produce(ctx, measured); err != nil {
				return 0, err
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// measureLatency runs contender c once with paced input and returns its
// latencies; w must hold enough clicks for the probes and the paced phase.
func measureLatency(ctx context.Context, cfg *config, cl cluster, w *workload, c contender, s setting, bins *binaries, token, scratch string) (latencyResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	res := latencyResult{ID: c.id, Label: s.label}
	s.label = "lat-" + s.label
	m, _, release, err := prepare(ctx, cfg, cl, c, s, bins, 1, token, scratch)
	if err != nil {
		return res, err
	}
	defer release()
	trace := newLatencyTrace()
	tracker, err := trackOutput(ctx, m.addr, m.out, w, true, trace.seen)
	if err != nil {
		return res, err
	}
	defer tracker.stop()
	prod, err := kgo.NewClient(kgo.SeedBrokers(m.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		return res, err
	}
	defer prod.Close()
	partitions := cfg.partitions
	if s.partitions > 0 {
		partitions = s.partitions
	}
	p := &pacer{w: w, cl: prod, topic: m.in, partitions: partitions, trace: trace}
	proc, err := m.start()
	if err != nil {
		return res, err
	}
	defer proc.stop()
	if _, err := m.waitFor(ctx, proc, func() bool {
		if tracker.complete(updates, 1) {
			return true
		}
		if err := p.produce(ctx, false); err != nil {
			return true // reported below
		}
		time.Sleep(50 * time.Millisecond) // with waitFor's 50 ms: a probe every 100 ms
		return false
	}); err != nil {
		return res, fmt.Errorf("%s: no output to the probes: %w\n%s", c.name, err, tail(m.logPath, 30))
	}
	if _, err := p.paced(ctx, cfg.eos.rate, cfg.eos.warmup, false); err != nil {
		return res, err
	}
	if res.Rate, err = p.paced(ctx, cfg.eos.rate, cfg.eos.duration, true); err != nil {
		return res, err
	}
	if err := prod.Flush(ctx); err != nil || p.err != nil {
		return res, fmt.Errorf("produce: %v %v", err, p.err)
	}
	if _, err := m.waitFor(ctx, proc, trace.caughtUp); err != nil {
		return res, fmt.Errorf("%s: output incomplete: %w\n%s", c.name, err, tail(m.logPath, 30))
	}
	proc.stop()
	res.Produced = p.next
	if cfg.verify {
		if _, err := w.prefix(p.next).verify(ctx, m.addr, m.out, c.kind, true); err != nil {
			return res, fmt.Errorf("%s (latency): %w\n%s", c.name, err, tail(m.logPath, 30))
		}
	}
	return trace.result(res)
}

// result fills in the latency statistics.
func (lt *latencyTrace) result(res latencyResult) (latencyResult, error) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.unmapped > 0 {
		return res, fmt.Errorf("%d output counts exceed the clicks produced for their user: the output is not click-count's", lt.unmapped)
	}
	if len(lt.samples) == 0 {
		return res, fmt.Errorf("no latency measured")
	}
	s := append([]float64(nil), lt.samples...)
	sort.Float64s(s)
	res.samples, res.Measured = s, len(s)
	res.P50, res.P99, res.Max = quantile(s, 0.5), quantile(s, 0.99), s[len(s)-1]
	res.TSChecked, res.TSEqual = lt.checked, lt.equalTS
	return res, nil
}

// quantile is the nearest-rank q-quantile of sorted xs.
func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
