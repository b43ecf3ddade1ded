package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// TestWindowedCountsCorrectly is the windowed benchmark's smoke mode: gofka's
// examples/pageviews and Kafka Streams' WindowedCount each run once on 20,000
// page views on a fresh embedded broker, and both outputs (every update, every
// final count, and gofka's late views) are read back and checked against the
// brute-force windowing of the input. The 20,000 views span 20 s of event time,
// and those out of order by up to 10 s near the start fall in the window
// before, so both windows of a page and their closing are exercised. It needs
// java and mvn for the Kafka Streams peer.
func TestWindowedCountsCorrectly(t *testing.T) {
	cfg := smokeConfig(t, idsOf(windowedContenders))
	cfg.windowed, cfg.out = true, filepath.Join(t.TempDir(), "windowed.md")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep, err := runWindowed(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := newViewWorkload(cfg.n, cfg.partitions)
	if w.outOfOrder == 0 || len(w.closed) == 0 || len(w.closed) == len(w.counts) {
		t.Fatalf("the input exercises too little: %d out of order, %d of %d windows closed", w.outOfOrder, len(w.closed), len(w.counts))
	}
	for _, c := range windowedContenders {
		var got *result
		for i := range rep.results {
			if rep.results[i].id == c.id {
				got = &rep.results[i]
			}
		}
		switch {
		case got == nil:
			t.Errorf("%s: no result", c.name)
		case got.records != w.updates()+len(w.closed) || got.cpu <= 0 || got.rssMB <= 0:
			t.Errorf("%s: implausible result %+v, want %d output records", c.name, *got, w.updates()+len(w.closed))
		}
	}
	md, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| gofka pageviews |", "| Kafka Streams WindowedCount (no cache) |", "| gofka ≥ 3× Kafka Streams in records/s |", "| gofka peak RSS below Kafka Streams' |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("the report has no %q:\n%s", want, md)
		}
	}
}

// TestViewBruteForce checks the brute force on views written by hand: a view
// counts unless its partition's stream time has reached its window's end plus
// the grace, other partitions' stream time does not matter, and a window is
// closed when its partition's stream time reaches its end plus the grace.
func TestViewBruteForce(t *testing.T) {
	w := &viewWorkload{}
	a, b := []byte("a"), []byte("b")
	w.add(a, 1_000, 0)  // window 0 of a, partition 0
	w.add(a, 59_999, 0) // the same window
	w.add(b, 75_000, 1) // partition 1: stream time 75 s closes window 0 there only
	w.add(a, 69_999, 0) // window 60 s; partition 0's stream time is 69.999 s
	w.add(a, 30_000, 0) // window 0 is still open: 60 s + 10 s grace > 69.999 s
	w.add(a, 70_000, 0) // stream time 70 s: window 0 closes
	w.add(a, 30_001, 0) // late
	w.add(b, 10_000, 1) // late: partition 1's stream time is 75 s
	w.bruteForce(2)
	want := map[string]int64{windowedKey(a, 0): 3, windowedKey(a, 60_000): 2, windowedKey(b, 60_000): 1}
	if len(w.counts) != len(want) {
		t.Errorf("counts %v, want %v", w.counts, want)
	}
	for k, n := range want {
		if w.counts[k] != n {
			t.Errorf("window %s: count %d, want %d", describeWindow(k), w.counts[k], n)
		}
	}
	if len(w.closed) != 1 || !w.closed[windowedKey(a, 0)] {
		t.Errorf("closed %v, want only a@0", w.closed)
	}
	if w.late != 2 || w.outOfOrder != 4 || w.updates() != 6 {
		t.Errorf("late %d, out of order %d, updates %d; want 2, 4, 6", w.late, w.outOfOrder, w.updates())
	}
}

// TestViewVerifyCatchesWrongOutput checks that the windowed output check
// rejects what a wrong implementation would write: a lost or duplicated
// update, a final count that is wrong, duplicated, missing or of a window
// still open, a window the input has not.
func TestViewVerifyCatchesWrongOutput(t *testing.T) {
	ctx, addr, cl, adm := scratchBroker(t)
	w := newViewWorkload(3000, 2)
	var open string
	for k := range w.counts {
		if !w.closed[k] {
			open = k
		}
	}
	// right is the output of a right implementation, with change applied.
	type output struct{ updates, finals []*kgo.Record }
	right := func(change func(o *output)) output {
		var o output
		for k, n := range w.counts {
			for i := range n {
				o.updates = append(o.updates, &kgo.Record{Key: []byte(k), Value: encodeCount(i + 1)})
			}
			if w.closed[k] {
				o.finals = append(o.finals, &kgo.Record{Key: []byte(k), Value: encodeCount(n)})
			}
		}
		change(&o)
		return o
	}
	cases := []struct {
		name   string
		change func(o *output)
		wrong  bool
	}{
		{"right", func(o *output) {}, false},
		{"a lost update", func(o *output) { o.updates = o.updates[1:] }, true},
		{"a duplicated update", func(o *output) { o.updates = append(o.updates, o.updates[0]) }, true},
		{"a duplicated final", func(o *output) { o.finals = append(o.finals, o.finals[0]) }, true},
		{"a missing final", func(o *output) { o.finals = o.finals[1:] }, true},
		{"a final one short", func(o *output) {
			n, _ := decodeCount(o.finals[0].Value)
			o.finals[0] = &kgo.Record{Key: o.finals[0].Key, Value: encodeCount(n - 1)}
		}, true},
		{"a final of an open window", func(o *output) {
			o.finals = append(o.finals, &kgo.Record{Key: []byte(open), Value: encodeCount(w.counts[open])})
		}, true},
		{"a window the input has not", func(o *output) {
			o.updates = append(o.updates, &kgo.Record{Key: []byte(windowedKey([]byte("/nowhere"), 0)), Value: encodeCount(1)})
		}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := right(tc.change)
			topics := []string{fmt.Sprintf("updates-%d", i), fmt.Sprintf("finals-%d", i)}
			if err := testkit.ResetTopics(ctx, adm, 2, topics...); err != nil {
				t.Fatal(err)
			}
			var recs []*kgo.Record
			for j, rs := range [][]*kgo.Record{o.updates, o.finals} {
				for _, r := range rs {
					recs = append(recs, &kgo.Record{Topic: topics[j], Key: r.Key, Value: r.Value})
				}
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			_, err := w.verify(ctx, addr, topics[0], topics[1])
			if tc.wrong && err == nil {
				t.Error("verify accepted a wrong output")
			}
			if !tc.wrong && err != nil {
				t.Errorf("verify rejected a right output: %v", err)
			}
		})
	}
}
