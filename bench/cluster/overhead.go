package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// overheadRun is one replica processing the whole preloaded input.
type overheadRun struct {
	Run      int     `json:"run"`
	Interval string  `json:"checkpoint_interval"` // "1s" or "0"
	Seconds  float64 `json:"seconds"`             // start until the whole input is reflected in the output
	Rate     float64 `json:"records_per_s"`       // input clicks / Seconds
	CPU      float64 `json:"cpu_s"`
	PeakMB   float64 `json:"peak_rss_mb"`
	// Checkpoints: how many completed while the input was processed.
	Checkpoints int `json:"checkpoints_complete"`
}

// overheadResult is the checkpoint-overhead scenario's measurements.
type overheadResult struct {
	N    int           `json:"n"`
	Real int           `json:"real_clicks"`
	Runs []overheadRun `json:"runs"`
}

// The two settings compared.
var overheadIntervals = []string{"1s", "0"}

// runOverhead loads -n clicks once and lets a fresh single replica (its own
// application id, so its own offsets, internal topics and state) process them
// all, -runs times with checkpoints every second and -runs times without,
// alternating which goes first.
func runOverhead(ctx context.Context, e *env) (*overheadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	base := "bench-ckpt-" + e.token
	l, err := e.brokers.acquire(ctx, "checkpoint")
	if err != nil {
		return nil, err
	}
	var apps []string
	defer func() { l.release([]string{inputTopic, outputTopic}, apps) }()
	if err := resetTopics(ctx, l.addr, e.cfg.partitions, inputTopic, outputTopic); err != nil {
		return nil, err
	}
	w := newOverheadWorkload(e.cfg.n)
	if err := load(ctx, l.addr, inputTopic, e.cfg.n, w.gen); err != nil {
		return nil, err
	}
	res := &overheadResult{N: e.cfg.n, Real: w.real}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// One unmeasured run first: the first replica to read a freshly loaded
	// topic (a cold broker, page cache and JIT) is slower, whatever its setting.
	warm := base + "-warmup"
	apps = append(apps, warm)
	if _, err := overheadOnce(ctx, e, adm, l.addr, warm, "0", w); err != nil {
		return nil, fmt.Errorf("warm-up run: %w", err)
	}
	if err := testkit.DeleteTopics(ctx, l.addr, nil, []string{warm}); err != nil {
		return nil, err
	}
	for run := 1; run <= e.cfg.runs; run++ {
		order := overheadIntervals
		if run%2 == 0 {
			order = []string{overheadIntervals[1], overheadIntervals[0]}
		}
		for _, interval := range order {
			app := fmt.Sprintf("%s-%d-%s", base, run, map[string]string{"1s": "1s", "0": "none"}[interval])
			apps = append(apps, app)
			or, err := overheadOnce(ctx, e, adm, l.addr, app, interval, w)
			if err != nil {
				return nil, fmt.Errorf("run %d, --checkpoint-interval %s: %w", run, interval, err)
			}
			or.Run = run
			res.Runs = append(res.Runs, or)
			e.cfg.logf("checkpoint overhead run %d, --checkpoint-interval %s: %.2f s, %.0f clicks/s, %d checkpoints complete\n",
				run, interval, or.Seconds, or.Rate, or.Checkpoints)
			// The next run starts on a quieter broker: this one's internal topics go.
			if err := testkit.DeleteTopics(ctx, l.addr, nil, []string{app}); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// overheadOnce starts one replica with --checkpoint-interval interval and times
// it until the output holds one count update per real click more than before.
func overheadOnce(ctx context.Context, e *env, adm *kadm.Client, addr, app, interval string, w *overheadWorkload) (overheadRun, error) {
	or := overheadRun{Interval: interval}
	before, err := endOffsetSum(ctx, adm, outputTopic)
	if err != nil {
		return or, err
	}
	rs, err := newReplicas(e, filepath.Join(e.scratch, app), addr, app, 1)
	if err != nil {
		return or, err
	}
	r := rs[0]
	defer r.killGroup()
	for i, a := range r.args {
		if a == "--checkpoint-interval" {
			r.args[i+1] = interval
		}
	}
	want := before + int64(w.real)
	if err := r.start(); err != nil {
		return or, err
	}
	err = testkit.WaitFor(ctx, 10*time.Minute, func() bool {
		r.sample()
		if r.exited() {
			return true
		}
		n, err := endOffsetSum(ctx, adm, outputTopic)
		return err == nil && n >= want
	})
	elapsed := time.Since(r.started)
	if err == nil && r.exited() {
		err = fmt.Errorf("%s exited: %v", r.name, r.err)
	}
	if err != nil {
		return or, fmt.Errorf("waiting for %d count updates: %w\n%s", w.real, err, tailFile(r.logPath, 20))
	}
	or.Seconds = elapsed.Seconds()
	or.Rate = float64(len(w.keys)) / or.Seconds
	if st, err := r.status(ctx); err == nil && st.Cluster != nil {
		for _, cp := range st.Cluster.Checkpoints {
			if cp.State == "complete" {
				or.Checkpoints++
			}
		}
	}
	if err := r.stop(time.Minute); err != nil {
		return or, err
	}
	or.CPU = r.cpuSecs
	or.PeakMB = float64(r.peakKB) / 1024
	// No crash: exactly one update per real click (at-least-once without duplicates).
	if n, err := endOffsetSum(ctx, adm, outputTopic); err != nil {
		return or, err
	} else if n != want {
		return or, fmt.Errorf("the output grew by %d records, want %d (one per real click)", n-before, w.real)
	}
	return or, nil
}
