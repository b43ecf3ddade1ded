package e2e

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// examples/slidingviews' windows.
const (
	slidingDiff  = int64(5_000)
	slidingGrace = int64(10_000)
)

// slidingInput is two minutes of views of 12 pages, about 40 ms apart, one in
// twenty up to 9 s out of order (within the grace), one in fifty 20 s to 40 s
// behind (after every window it falls in has closed).
func slidingInput(n int) []pageView {
	rng := rand.New(rand.NewPCG(14, 450))
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).UnixMilli() // inside a broker's default retention
	var out []pageView
	for i := range n {
		page := fmt.Sprintf("/page/%02d", rng.IntN(12))
		ts := base + int64(i)*120_000/int64(n)
		switch r := rng.IntN(100); {
		case r < 5:
			ts -= 1 + rng.Int64N(9_000)
		case r < 7:
			ts -= 20_000 + rng.Int64N(20_000)
		}
		out = append(out, pageView{page, runtime.Partition([]byte(page), viewsPartitions), ts})
	}
	return out
}

// bruteForceSliding works out, from the definition of sliding windows, the final
// count and timestamp of every window, and the late views. Per partition (a task
// each), stream time is the largest view time so far, and a view is late when
// even the window starting right after it has closed: ts + 1 + d <= stream time
// - grace. (The input has no view that is late for some of its windows only.) The
// windows of a page are, over its counted views, [t-d, t] for each view at t
// ([0, d] when t < d) and [t+1, t+1+d] for each view with a later one within d;
// a window's count is the number of counted views in it, its timestamp the
// latest of them.
func bruteForceSliding(t *testing.T, in []pageView) (finals map[string]windowedRecord, late []pageView) {
	counted := map[string][]int64{}
	for p := range int32(viewsPartitions) {
		streamTime := int64(-1)
		for _, v := range in {
			if v.p != p {
				continue
			}
			streamTime = max(streamTime, v.ts)
			closeTime := streamTime - slidingGrace
			switch {
			case v.ts+1+slidingDiff <= closeTime:
				late = append(late, v)
			case v.ts < closeTime:
				t.Fatalf("view %+v is late for some of its windows only (close time %d): change the input", v, closeTime)
			default:
				counted[v.page] = append(counted[v.page], v.ts)
			}
		}
	}
	finals = map[string]windowedRecord{}
	for page, times := range counted {
		window := func(start int64) {
			var n, latest int64
			for _, x := range times {
				if start <= x && x <= start+slidingDiff {
					n, latest = n+1, max(latest, x)
				}
			}
			k := windowedKey(page, start)
			finals[k] = windowedRecord{k, n, latest}
		}
		for _, x := range times {
			window(max(x-slidingDiff, 0))
			if slices.ContainsFunc(times, func(y int64) bool { return x < y && y <= x+slidingDiff }) {
				window(x + 1)
			}
		}
	}
	return finals, late
}

// TestSlidingWindowsMatchBruteForce runs examples/slidingviews on its embedded
// broker over views partly out of order and partly late, and checks that the
// last update of every window (its final count, with the latest view time in
// it as timestamp) and the late topic are what bruteForceSliding works out
// without the DSL or the runtime.
func TestSlidingWindowsMatchBruteForce(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	bin := buildExample(ctx, t, "slidingviews")
	app, addr := startExample(ctx, t, bin, "page-views", "page-views-sliding", "late-page-views")
	in := slidingInput(3000)
	wantFinals, wantLate := bruteForceSliding(t, in)
	if len(wantLate) == 0 || len(wantFinals) < 1000 {
		t.Fatalf("the input gives %d late views and %d windows: it tests too little", len(wantLate), len(wantFinals))
	}

	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, v := range in {
		recs = append(recs, &kgo.Record{Topic: "page-views", Partition: v.p, Key: []byte(v.page), Value: []byte("view"), Timestamp: time.UnixMilli(v.ts)})
	}
	produceSync(ctx, t, cl, recs...)

	// The last update of each window; a window key always goes to one partition,
	// where its updates are in order.
	var got map[string]windowedRecord
	var lateGot int
	if err := poll(ctx, "every window's final count and every late view", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("slidingviews exited: %v", app.err)
		}
		got = map[string]windowedRecord{}
		readTopic(ctx, t, addr, "page-views-sliding", false, func(r *kgo.Record) {
			if len(r.Value) == 8 {
				got[string(r.Key)] = windowedRecord{string(r.Key), int64(binary.BigEndian.Uint64(r.Value)), r.Timestamp.UnixMilli()}
			}
		})
		lateGot = 0
		readTopic(ctx, t, addr, "late-page-views", false, func(*kgo.Record) { lateGot++ })
		same := len(got) == len(wantFinals)
		for k, w := range wantFinals {
			same = same && got[k] == w
		}
		return same && lateGot == len(wantLate), nil
	}); err != nil {
		for k, w := range wantFinals {
			if g, ok := got[k]; !ok || g != w {
				t.Errorf("window %q of %d: got %+v (present %v), want count %d at %d", k[:len(k)-8], binary.BigEndian.Uint64([]byte(k[len(k)-8:])), g, ok, w.count, w.ts)
			}
		}
		for k := range got {
			if _, ok := wantFinals[k]; !ok {
				t.Errorf("window %q of %d: made, want none", k[:len(k)-8], binary.BigEndian.Uint64([]byte(k[len(k)-8:])))
			}
		}
		t.Fatalf("%v (late views: got %d, want %d)", err, lateGot, len(wantLate))
	}
	t.Logf("%d views: %d windows, %d late views, as the brute force", len(in), len(got), lateGot)
	stopClean(ctx, t, app)
}
