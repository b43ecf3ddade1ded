package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
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
	produceSliding(ctx, t, addr, in)
	waitSlidingFinals(ctx, t, addr, app, "page-views-sliding", wantFinals, len(wantLate))
	t.Logf("%d views: %d windows, %d late views, as the brute force", len(in), len(wantFinals), len(wantLate))
	stopClean(ctx, t, app)
}

// TestSlidingWindowsMatchKafkaStreams runs examples/slidingviews and the same
// sliding-window count in Kafka Streams 3.9.1 (bench/peers/kstreams
// WindowedCount --sliding, no record cache, so every update is forwarded) on
// the same input, and compares the two outputs record for record: for each
// window, the same sequence of counts with the same timestamps. Both must also
// end on bruteForceSliding's counts. It runs on the real-Kafka tier, where a
// Kafka Streams client belongs.
func TestSlidingWindowsMatchKafkaStreams(t *testing.T) {
	if sharedBroker() == "" {
		t.Skipf("compares with Kafka Streams on a real broker: runs in the real-Kafka tier (test/kafka/run-tier.sh, make test-kafka), which sets %s", brokersEnv)
	}
	ctx := testContext(t, 4*time.Minute)
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	peer := testkit.KStreamsPeerDir(root)
	if err := testkit.BuildKStreamsPeer(peer, t.Logf); err != nil {
		t.Fatal(err)
	}
	in := slidingInput(3000)
	wantFinals, wantLate := bruteForceSliding(t, in)
	gofka, addr := startExample(ctx, t, buildExample(ctx, t, "slidingviews"), "page-views", "page-views-sliding", "late-page-views")
	adm := kadm.NewClient(client(t, addr))
	if resp, err := adm.CreateTopics(ctx, viewsPartitions, 1, nil, "ks-page-views-sliding"); err != nil || resp.Error() != nil {
		t.Fatalf("create the Kafka Streams peer's output topic: %v %v", err, resp.Error())
	}
	ks := startBinary(t, "java", "kstreams", testkit.KStreamsPeerCommand(peer, "512m", "gofka.bench.WindowedCount",
		"--bootstrap", addr, "--app-id", "ks-sliding-views", "--state-dir", t.TempDir(), "--commit-ms", "200", "--cache-bytes", "0",
		"--in", "page-views", "--out", "ks-page-views-sliding", "--sliding", "true",
		"--size-ms", fmt.Sprint(slidingDiff), "--grace-ms", fmt.Sprint(slidingGrace))[1:]...)
	produceSliding(ctx, t, addr, in)
	waitSlidingFinals(ctx, t, addr, gofka, "page-views-sliding", wantFinals, len(wantLate))
	waitSlidingFinals(ctx, t, addr, ks, "ks-page-views-sliding", wantFinals, -1)
	gotGofka := byWindow(readAll(ctx, t, addr, "page-views-sliding"))
	gotKS := byWindow(readAll(ctx, t, addr, "ks-page-views-sliding"))
	compareWindows(t, "sliding updates, gofka vs Kafka Streams", gotGofka, gotKS)
	n := 0
	for _, u := range gotKS {
		n += len(u)
	}
	t.Logf("%d views: %d windows, %d updates, the same from gofka and Kafka Streams", len(in), len(gotKS), n)
	stopClean(ctx, t, gofka)
}

// produceSliding writes the views to page-views, each to its key's partition
// with its event time.
func produceSliding(ctx context.Context, t *testing.T, addr string, in []pageView) {
	t.Helper()
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, v := range in {
		recs = append(recs, &kgo.Record{Topic: "page-views", Partition: v.p, Key: []byte(v.page), Value: []byte("view"), Timestamp: time.UnixMilli(v.ts)})
	}
	produceSync(ctx, t, cl, recs...)
}

// waitSlidingFinals waits until the last update of every window in topic (a
// window key always goes to one partition, where its updates are in order) is
// wantFinals', and, with wantLate >= 0, late-page-views holds wantLate views.
func waitSlidingFinals(ctx context.Context, t *testing.T, addr string, app *proc, topic string, wantFinals map[string]windowedRecord, wantLate int) {
	t.Helper()
	var got map[string]windowedRecord
	lateGot := 0
	err := poll(ctx, "every window's final count in "+topic, func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("%s exited: %v", app.name, app.err)
		}
		got = map[string]windowedRecord{}
		readTopic(ctx, t, addr, topic, false, func(r *kgo.Record) {
			if len(r.Value) == 8 {
				got[string(r.Key)] = windowedRecord{string(r.Key), int64(binary.BigEndian.Uint64(r.Value)), r.Timestamp.UnixMilli()}
			}
		})
		if wantLate >= 0 {
			lateGot = 0
			readTopic(ctx, t, addr, "late-page-views", false, func(*kgo.Record) { lateGot++ })
		}
		same := len(got) == len(wantFinals) && (wantLate < 0 || lateGot == wantLate)
		for k, w := range wantFinals {
			same = same && got[k] == w
		}
		return same, nil
	})
	if err == nil {
		return
	}
	bad := 0
	for k, w := range wantFinals {
		if g, ok := got[k]; (!ok || g != w) && bad < 5 {
			bad++
			t.Errorf("%s: window %q of %d: got %+v (present %v), want count %d at %d", topic, k[:len(k)-8], binary.BigEndian.Uint64([]byte(k[len(k)-8:])), g, ok, w.count, w.ts)
		}
	}
	for k := range got {
		if _, ok := wantFinals[k]; !ok && bad < 10 {
			bad++
			t.Errorf("%s: window %q of %d: made, want none", topic, k[:len(k)-8], binary.BigEndian.Uint64([]byte(k[len(k)-8:])))
		}
	}
	t.Fatalf("%v (late views: got %d, want %d)", err, lateGot, wantLate)
}
