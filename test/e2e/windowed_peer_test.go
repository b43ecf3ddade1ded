package e2e

import (
	"bytes"
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

// The windowed comparison runs examples/pageviews (a one-minute tumbling count
// per page with 10 s of grace: every update, the suppressed final counts, and
// the late views on a topic of their own) and the same topology written in
// Kafka Streams 3.9.1 (bench/peers/kstreams, WindowedCount) on the same input,
// and requires both to write the same records, and both to equal a brute-force
// windowing of the input written here from the definition.
const (
	viewsTopic      = "page-views"
	viewsUpdates    = "page-views-per-minute"
	viewsFinals     = "page-views-per-minute-final"
	viewsLate       = "late-page-views"
	viewsPartitions = 3
	viewsWindow     = int64(60_000)
	viewsGrace      = int64(10_000)
)

// pageView is one input record, with the partition it is written to (the key's,
// by Kafka's default partitioner) and its event time.
type pageView struct {
	page string
	p    int32
	ts   int64
}

// pageViewsInput is three minutes of views of 20 pages, a few seconds apart per
// partition, one in fifty up to 9 s out of order (within the grace), one in a
// hundred 15 s or more behind (late once stream time has moved on), and last
// one view per partition an hour later, which closes every window.
func pageViewsInput(n int) []pageView {
	rng := rand.New(rand.NewPCG(14, 2026))
	// Two hours ago, on a whole minute: recent enough that the broker's default
	// retention (7 days) keeps the records for the whole test.
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute).UnixMilli()
	var out []pageView
	for i := range n {
		page := fmt.Sprintf("/page/%02d", rng.IntN(20))
		ts := base + int64(i)*180_000/int64(n)
		switch r := rng.IntN(100); {
		case r < 2:
			ts -= 1 + rng.Int64N(9_000)
		case r == 2:
			ts -= 15_000 + rng.Int64N(30_000)
		}
		out = append(out, pageView{page, runtime.Partition([]byte(page), viewsPartitions), ts})
	}
	for p := range int32(viewsPartitions) {
		for i := 0; ; i++ { // a page of partition p
			page := fmt.Sprintf("/closing/%d", i)
			if runtime.Partition([]byte(page), viewsPartitions) == p {
				out = append(out, pageView{page, p, base + 3_600_000})
				break
			}
		}
	}
	return out
}

// windowedRecord is an output record: Kafka Streams' time-windowed key bytes,
// the count and the record's timestamp.
type windowedRecord struct {
	key   string
	count int64
	ts    int64
}

// bruteForceViews windows the input from the definition, partition by
// partition (a task per input partition): stream time is the partition's
// largest timestamp so far, a view counts in its window unless stream time has
// reached the window's end plus grace, an update is emitted per counted view
// (with the largest timestamp counted in the window so far), and a window's
// final count is emitted once stream time reaches its end plus grace.
func bruteForceViews(in []pageView) (updates, finals map[string][]windowedRecord, late []pageView) {
	updates, finals = map[string][]windowedRecord{}, map[string][]windowedRecord{}
	for p := range int32(viewsPartitions) {
		type window struct {
			count, ts int64
			closed    bool
		}
		windows := map[string]*window{}
		var keys []string // in creation order, for closing
		streamTime := int64(-1)
		for _, v := range in {
			if v.p != p {
				continue
			}
			streamTime = max(streamTime, v.ts)
			start := v.ts - v.ts%viewsWindow
			key := windowedKey(v.page, start)
			if start+viewsWindow+viewsGrace <= streamTime {
				late = append(late, v)
			} else {
				w := windows[key]
				if w == nil {
					w = &window{}
					windows[key] = w
					keys = append(keys, key)
				}
				w.count++
				w.ts = max(w.ts, v.ts)
				updates[key] = append(updates[key], windowedRecord{key, w.count, w.ts})
			}
			for _, k := range keys {
				w := windows[k]
				start := int64(binary.BigEndian.Uint64([]byte(k[len(k)-8:])))
				if !w.closed && start+viewsWindow+viewsGrace <= streamTime {
					w.closed = true
					finals[k] = append(finals[k], windowedRecord{k, w.count, w.ts})
				}
			}
		}
	}
	return updates, finals, late
}

// windowedKey is Kafka Streams' time-windowed serde's bytes for page's window
// starting at start: the page, then the start as 8 bytes big-endian.
func windowedKey(page string, start int64) string {
	return string(binary.BigEndian.AppendUint64([]byte(page), uint64(start)))
}

// TestWindowedCountMatchesKafkaStreams: see the constants above. It runs on
// the real-Kafka tier, where a Kafka Streams client belongs.
func TestWindowedCountMatchesKafkaStreams(t *testing.T) {
	if sharedBroker() == "" {
		t.Skipf("compares with Kafka Streams on a real broker: runs in the real-Kafka tier (test/kafka/run-tier.sh, make test-kafka), which sets %s", brokersEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	peer := testkit.KStreamsPeerDir(root)
	if err := testkit.BuildKStreamsPeer(peer, t.Logf); err != nil {
		t.Fatal(err)
	}
	in := pageViewsInput(3000)
	wantUpdates, wantFinals, wantLate := bruteForceViews(in)

	gofka, addr := startExample(ctx, t, buildExample(ctx, t, "pageviews"), viewsTopic, viewsUpdates, viewsFinals, viewsLate)
	adm := kadm.NewClient(client(t, addr))
	if resp, err := adm.CreateTopics(ctx, viewsPartitions, 1, nil, "ks-"+viewsUpdates, "ks-"+viewsFinals); err != nil || resp.Error() != nil {
		t.Fatalf("create the Kafka Streams peer's output topics: %v %v", err, resp.Error())
	}
	ks := startBinary(t, "java", "kstreams", testkit.KStreamsPeerCommand(peer, "512m", "gofka.bench.WindowedCount",
		"--bootstrap", addr, "--app-id", "ks-page-views", "--state-dir", t.TempDir(), "--commit-ms", "200", "--cache-bytes", "0", "--leave-group", "true",
		"--in", viewsTopic, "--out", "ks-"+viewsUpdates, "--out-final", "ks-"+viewsFinals,
		"--size-ms", fmt.Sprint(viewsWindow), "--grace-ms", fmt.Sprint(viewsGrace))[1:]...)
	stopKStreamsAtCleanup(t, ks, "ks-page-views", time.Now())

	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, v := range in {
		recs = append(recs, &kgo.Record{Topic: viewsTopic, Partition: v.p, Key: []byte(v.page), Value: []byte("view"), Timestamp: time.UnixMilli(v.ts)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	nFinals := 0
	for _, f := range wantFinals {
		nFinals += len(f)
	}
	for _, topic := range []string{viewsFinals, "ks-" + viewsFinals} {
		readUntil(ctx, t, addr, []string{topic}, func(r []*kgo.Record) bool { return len(r) >= nFinals || gofka.exited() || ks.exited() })
	}
	if gofka.exited() || ks.exited() {
		t.Fatalf("a program exited early: gofka %v, Kafka Streams %v", gofka.err, ks.err)
	}
	for _, tc := range []struct {
		what, topic string
		want        map[string][]windowedRecord
	}{
		{"updates", viewsUpdates, wantUpdates},
		{"final counts", viewsFinals, wantFinals},
	} {
		gotGofka := byWindow(readAll(ctx, t, addr, tc.topic))
		gotKS := byWindow(readAll(ctx, t, addr, "ks-"+tc.topic))
		compareWindows(t, tc.what+", gofka vs brute force", gotGofka, tc.want)
		compareWindows(t, tc.what+", Kafka Streams vs brute force", gotKS, tc.want)
		compareWindows(t, tc.what+", gofka vs Kafka Streams", gotGofka, gotKS)
	}
	var late []pageView
	for _, r := range readAll(ctx, t, addr, viewsLate) {
		late = append(late, pageView{string(r.Key), r.Partition, r.Timestamp.UnixMilli()})
		if !bytes.Equal(r.Value, []byte("view")) {
			t.Errorf("late record %q has value %q: want it unchanged", r.Key, r.Value)
		}
	}
	sortViews := func(vs []pageView) {
		slices.SortFunc(vs, func(a, b pageView) int {
			if a.ts != b.ts {
				return int(a.ts - b.ts)
			}
			return bytes.Compare([]byte(a.page), []byte(b.page))
		})
	}
	sortViews(late)
	sortViews(wantLate)
	if len(wantLate) == 0 || !slices.Equal(late, wantLate) {
		t.Errorf("late views: %d %v, want %d %v", len(late), late, len(wantLate), wantLate)
	}
}

// byWindow groups output records by windowed key, in the order written (a
// window's records all come from one task, in order).
func byWindow(recs []*kgo.Record) map[string][]windowedRecord {
	out := map[string][]windowedRecord{}
	for _, r := range recs {
		if len(r.Value) != 8 {
			continue
		}
		out[string(r.Key)] = append(out[string(r.Key)], windowedRecord{string(r.Key), int64(binary.BigEndian.Uint64(r.Value)), r.Timestamp.UnixMilli()})
	}
	return out
}

func compareWindows(t *testing.T, what string, got, want map[string][]windowedRecord) {
	t.Helper()
	bad := 0
	for k, w := range want {
		if g := got[k]; !slices.Equal(g, w) {
			if bad++; bad <= 5 {
				t.Errorf("%s: window %q: %v, want %v", what, k, g, w)
			}
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 5 {
				t.Errorf("%s: window %q: %v, want none", what, k, g)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d windows differ in all", what, bad)
	}
}
