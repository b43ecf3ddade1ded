package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/streamstest"
)

// view is one input record of the test.
type view struct {
	page string
	ts   int64
	id   int // the value piped: the view's index, so a late record's value can be checked
}

// update is one record of page-views-per-minute, as the brute force computes it.
type update struct {
	page       string
	start, end int64
	count      int64
	ts         int64 // the latest time of the views counted: the result's timestamp
}

// views makes n views of a few pages, about 2 a second, each up to 25 s earlier
// than its place in the sequence: within the 10 s grace mostly, beyond it sometimes.
func views(n int) []view {
	rng := rand.New(rand.NewPCG(14, 1))
	out := make([]view, n)
	for i := range out {
		ts := 1_700_000_000_000 + int64(i)*500 - rng.Int64N(25_000)
		out[i] = view{page: fmt.Sprintf("/page/%d", rng.IntN(7)), ts: ts, id: i}
	}
	return out
}

// bruteForce windows the views without the DSL or the runtime: one-minute windows
// aligned to the epoch, stream time the largest timestamp so far, a view late when
// its window's end plus 10 s grace is at or before stream time.
func bruteForce(in []view) (updates []update, late []view) {
	const size, grace = 60_000, 10_000
	counts, latest := map[[2]any]int64{}, map[[2]any]int64{}
	streamTime := int64(-1)
	for _, v := range in {
		streamTime = max(streamTime, v.ts)
		start := v.ts / size * size
		if start+size+grace <= streamTime {
			late = append(late, v)
			continue
		}
		key := [2]any{v.page, start}
		counts[key]++
		latest[key] = max(latest[key], v.ts)
		updates = append(updates, update{v.page, start, start + size, counts[key], latest[key]})
	}
	return updates, late
}

func TestPageViewsMatchesBruteForce(t *testing.T) {
	in := views(3000)
	wantUpdates, wantLate := bruteForce(in)
	// The input must exercise both sides: out-of-order views that still count, and late ones.
	outOfOrder := 0
	for i := 1; i < len(in); i++ {
		if in[i].ts < in[i-1].ts {
			outOfOrder++
		}
	}
	if outOfOrder == 0 || len(wantLate) == 0 || len(wantLate) > len(in)/2 {
		t.Fatalf("input has %d out-of-order and %d late views of %d: not a useful test", outOfOrder, len(wantLate), len(in))
	}

	d := streamstest.NewDriver(CompiledPageViews(), streamstest.WithPartitions(1))
	defer d.Close()
	input := streamstest.Input(d, "page-views", streams.String(), streams.Bytes())
	perMinute := streamstest.Output(d, "page-views-per-minute",
		streams.TimeWindowedSerde[string, streams.StringSerde[string]]{Size: time.Minute}, streams.Int64())
	lateOut := streamstest.Output(d, "late-page-views", streams.String(), streams.Bytes())
	for i, v := range in {
		if err := input.PipeAt(v.page, []byte(fmt.Sprint(i)), v.ts); err != nil {
			t.Fatal(err)
		}
	}

	got, err := perMinute.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(wantUpdates) {
		t.Fatalf("got %d updates, want %d", len(got), len(wantUpdates))
	}
	for i, kv := range got {
		g := update{kv.Key.Key, kv.Key.Start.UnixMilli(), kv.Key.End.UnixMilli(), kv.Value, kv.Timestamp}
		if g != wantUpdates[i] {
			t.Fatalf("update %d = %+v, want %+v", i, g, wantUpdates[i])
		}
	}
	lates, err := lateOut.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(lates) != len(wantLate) {
		t.Fatalf("got %d late records, want %d", len(lates), len(wantLate))
	}
	for i, kv := range lates {
		if kv.Key != wantLate[i].page || string(kv.Value) != fmt.Sprint(wantLate[i].id) || kv.Timestamp != wantLate[i].ts {
			t.Fatalf("late record %d is %q=%q at %d, want it unchanged: %q=%d at %d", i, kv.Key, kv.Value, kv.Timestamp, wantLate[i].page, wantLate[i].id, wantLate[i].ts)
		}
	}
	if n := d.LateRecords(); n != int64(len(wantLate)) {
		t.Errorf("LateRecords() = %d, want %d", n, len(wantLate))
	}
	t.Logf("%d views: %d updates, %d late (%d out of order)", len(in), len(got), len(lates), outOfOrder)
}
