package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
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

// window is a page's one-minute window, by its start.
type window struct {
	page  string
	start int64
}

// bruteForce windows the views without the DSL or the runtime: one-minute windows
// aligned to the epoch, stream time the largest timestamp so far, a view late when
// its window's end plus 10 s grace is at or before stream time. Final results are
// due once stream time reaches end + grace; they are emitted after a view that
// is counted, oldest first, then by page.
func bruteForce(in []view) (updates, finals []update, late []view) {
	const size, grace = 60_000, 10_000
	counts, latest := map[window]int64{}, map[window]int64{}
	pending := map[window]bool{}
	streamTime := int64(-1)
	for _, v := range in {
		streamTime = max(streamTime, v.ts)
		start := v.ts / size * size
		if start+size+grace <= streamTime {
			late = append(late, v)
			continue
		}
		w := window{v.page, start}
		counts[w]++
		latest[w] = max(latest[w], v.ts)
		updates = append(updates, update{v.page, start, start + size, counts[w], latest[w]})
		pending[w] = true
		var due []window
		for p := range pending {
			if p.start+size+grace <= streamTime {
				due = append(due, p)
			}
		}
		slices.SortFunc(due, func(a, b window) int { return cmp.Or(cmp.Compare(a.start, b.start), strings.Compare(a.page, b.page)) })
		for _, p := range due {
			finals = append(finals, update{p.page, p.start, p.start + size, counts[p], latest[p]})
			delete(pending, p)
		}
	}
	return updates, finals, late
}

func TestPageViewsMatchesBruteForce(t *testing.T) {
	in := views(3000)
	wantUpdates, wantFinals, wantLate := bruteForce(in)
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
	final := streamstest.Output(d, "page-views-per-minute-final",
		streams.TimeWindowedSerde[string, streams.StringSerde[string]]{Size: time.Minute}, streams.Int64())
	lateOut := streamstest.Output(d, "late-page-views", streams.String(), streams.Bytes())
	for i, v := range in {
		if err := input.PipeAt(v.page, []byte(fmt.Sprint(i)), v.ts); err != nil {
			t.Fatal(err)
		}
	}

	got := checkUpdates(t, "page-views-per-minute", perMinute, wantUpdates)
	finals := checkUpdates(t, "page-views-per-minute-final", final, wantFinals)
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
	t.Logf("%d views: %d updates, %d final results, %d late (%d out of order)", len(in), got, finals, len(lates), outOfOrder)
}

// checkUpdates compares the records of a windowed output with want, in order,
// and returns how many there are.
func checkUpdates(t *testing.T, topic string, out *streamstest.OutputTopic[streams.Windowed[string], int64], want []update) int {
	t.Helper()
	got, err := out.ReadRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d records, want %d", topic, len(got), len(want))
	}
	for i, kv := range got {
		g := update{kv.Key.Key, kv.Key.Start.UnixMilli(), kv.Key.End.UnixMilli(), kv.Value, kv.Timestamp}
		if g != want[i] {
			t.Fatalf("%s: record %d = %+v, want %+v", topic, i, g, want[i])
		}
	}
	return len(got)
}
