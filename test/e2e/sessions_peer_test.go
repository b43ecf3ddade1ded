package e2e

import (
	"cmp"
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

// examples/sessions' windows.
const (
	sessionGap   = int64(5 * 60_000)
	sessionGrace = int64(60_000)
)

// sessionClicksInput is 100 minutes of clicks of 60 users, about 4 s apart, one in
// ten up to 6 minutes out of order (often bridging two sessions), one in thirty
// 10 to 20 minutes behind (often late).
func sessionClicksInput(n int) []pageView {
	rng := rand.New(rand.NewPCG(14, 4))
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Minute).UnixMilli() // inside a broker's default retention
	var out []pageView
	for i := range n {
		user := fmt.Sprintf("u%02d", rng.IntN(60))
		ts := base + int64(i)*4000
		switch r := rng.IntN(30); {
		case r < 3:
			ts -= 1 + rng.Int64N(6*60_000)
		case r == 3:
			ts -= 10*60_000 + rng.Int64N(10*60_000)
		}
		out = append(out, pageView{user, runtime.Partition([]byte(user), viewsPartitions), ts})
	}
	return out
}

// sessionKey is Kafka Streams' session-windowed serde's bytes: the user, the
// session's end, its start.
func sessionKey(user string, start, end int64) string {
	return string(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte(user), uint64(end)), uint64(start)))
}

// bruteForceSessions works out examples/sessions' output from the definition,
// per partition (a task each, stream time its largest click time): a click at t
// joins every session of its user that ends at or after t - gap and starts at
// or before t + gap and has not closed (end + gap + grace >= stream time); the
// merged session is late if it has closed, else each joined session is deleted
// (a record with count -1, timestamp its end; none when the merged session is
// just [t, t]), by end then start, and the merged one written with its count,
// timestamp its end. It returns the records per session key, and the number of
// records.
func bruteForceSessions(in []pageView) (map[string][]windowedRecord, int) {
	type sess struct{ start, end, count int64 }
	out := map[string][]windowedRecord{}
	n := 0
	emit := func(user string, s sess, count int64) {
		k := sessionKey(user, s.start, s.end)
		out[k] = append(out[k], windowedRecord{k, count, s.end})
		n++
	}
	for p := range int32(viewsPartitions) {
		byUser := map[string][]sess{}
		streamTime := int64(-1)
		for _, c := range in {
			if c.p != p {
				continue
			}
			streamTime = max(streamTime, c.ts)
			merged := sess{c.ts, c.ts, 1}
			var joined, keep []sess
			for _, s := range byUser[c.page] {
				if s.end+sessionGap+sessionGrace >= streamTime && s.end >= c.ts-sessionGap && s.start <= c.ts+sessionGap {
					merged = sess{min(merged.start, s.start), max(merged.end, s.end), merged.count + s.count}
					joined = append(joined, s)
				} else {
					keep = append(keep, s)
				}
			}
			if merged.end+sessionGap+sessionGrace < streamTime {
				continue // late
			}
			if merged.start != c.ts || merged.end != c.ts {
				slices.SortFunc(joined, func(a, b sess) int { return cmp.Or(cmp.Compare(a.end, b.end), cmp.Compare(a.start, b.start)) })
				for _, s := range joined {
					emit(c.page, s, -1)
				}
			}
			byUser[c.page] = append(keep, merged)
			emit(c.page, merged, merged.count)
		}
	}
	return out, n
}

// sessionsByKey reads topic's records by session key, a tombstone as count -1.
func sessionsByKey(ctx context.Context, t *testing.T, addr, topic string) (map[string][]windowedRecord, int) {
	out := map[string][]windowedRecord{}
	n := 0
	readTopic(ctx, t, addr, topic, false, func(r *kgo.Record) {
		count := int64(-1)
		if r.Value != nil {
			if len(r.Value) != 8 {
				t.Errorf("%s offset %d: value of %d bytes", topic, r.Offset, len(r.Value))
				return
			}
			count = int64(binary.BigEndian.Uint64(r.Value))
		}
		out[string(r.Key)] = append(out[string(r.Key)], windowedRecord{string(r.Key), count, r.Timestamp.UnixMilli()})
		n++
	})
	return out, n
}

// TestSessionsMatchKafkaStreams runs examples/sessions (a session-windowed count,
// gap 5 min, grace 1 min) and the same count in Kafka Streams 3.9.1
// (bench/peers/kstreams WindowedCount --session, no record cache) on the same
// clicks, partly out of order and partly late, and compares the outputs record
// for record, per session key: the same counts, the same tombstones for the
// sessions merged away, the same timestamps; and both with bruteForceSessions.
// It runs on the real-Kafka tier, where a Kafka Streams client belongs.
func TestSessionsMatchKafkaStreams(t *testing.T) {
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
	in := sessionClicksInput(1500)
	want, nWant := bruteForceSessions(in)
	tombstones := 0
	for _, rs := range want {
		for _, r := range rs {
			if r.count < 0 {
				tombstones++
			}
		}
	}
	if tombstones < 100 {
		t.Fatalf("the input gives %d deletes of merged sessions: it tests too little", tombstones)
	}
	gofka, addr := startExample(ctx, t, buildExample(ctx, t, "sessions"), "clicks", "clicks-per-session", "late-clicks")
	adm := kadm.NewClient(client(t, addr))
	if resp, err := adm.CreateTopics(ctx, viewsPartitions, 1, nil, "ks-clicks-per-session"); err != nil || resp.Error() != nil {
		t.Fatalf("create the Kafka Streams peer's output topic: %v %v", err, resp.Error())
	}
	ks := startBinary(t, "java", "kstreams", testkit.KStreamsPeerCommand(peer, "512m", "gofka.bench.WindowedCount",
		"--bootstrap", addr, "--app-id", "ks-sessions", "--state-dir", t.TempDir(), "--commit-ms", "200", "--cache-bytes", "0", "--leave-group", "true",
		"--in", "clicks", "--out", "ks-clicks-per-session", "--session", "true",
		"--size-ms", fmt.Sprint(sessionGap), "--grace-ms", fmt.Sprint(sessionGrace))[1:]...)
	stopKStreamsAtCleanup(t, ks, "ks-sessions", time.Now())

	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, c := range in {
		recs = append(recs, &kgo.Record{Topic: "clicks", Partition: c.p, Key: []byte(c.page), Value: []byte("click"), Timestamp: time.UnixMilli(c.ts)})
	}
	produceSync(ctx, t, cl, recs...)

	for _, topic := range []string{"clicks-per-session", "ks-clicks-per-session"} {
		err := poll(ctx, fmt.Sprintf("%d records in %s", nWant, topic), func() (bool, error) {
			if gofka.exited() || ks.exited() {
				return false, fmt.Errorf("a program exited early: gofka %v, Kafka Streams %v", gofka.err, ks.err)
			}
			_, n := sessionsByKey(ctx, t, addr, topic)
			return n >= nWant, nil
		})
		if err != nil {
			_, n := sessionsByKey(ctx, t, addr, topic)
			t.Fatalf("%v: %d records", err, n)
		}
	}
	gotGofka, _ := sessionsByKey(ctx, t, addr, "clicks-per-session")
	gotKS, _ := sessionsByKey(ctx, t, addr, "ks-clicks-per-session")
	compareWindows(t, "sessions, gofka vs brute force", gotGofka, want)
	compareWindows(t, "sessions, Kafka Streams vs brute force", gotKS, want)
	compareWindows(t, "sessions, gofka vs Kafka Streams", gotGofka, gotKS)
	t.Logf("%d clicks: %d records (%d deletes of merged sessions) in %d session keys, the same from gofka and Kafka Streams", len(in), nWant, tombstones, len(want))
	stopClean(ctx, t, gofka)
}
