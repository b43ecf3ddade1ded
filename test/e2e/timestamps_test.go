package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// timestampBase is the event time of the first click of TestRecordTimestamps:
// three days before the test runs, so that a record stamped when it is sent
// cannot pass for one stamped with its input's time, yet well inside a broker's
// default retention (7 days), which would otherwise delete the input midway.
var timestampBase = time.Now().Add(-72 * time.Hour).Truncate(time.Second).UnixMilli()

// TestRecordTimestamps checks record time end to end, under both guarantees:
// every record the application writes carries the timestamp of the input record
// it comes from (Kafka Streams' rule), through the repartition topic to the
// output; and each task's stream time (the largest input timestamp it read,
// bots included) is committed with its input offsets and taken up again when
// the application restarts.
func TestRecordTimestamps(t *testing.T) {
	for _, guarantee := range []string{"at-least-once", "exactly-once"} {
		t.Run(guarantee, func(t *testing.T) {
			ctx := testContext(t, 90*time.Second)
			addr, cl, adm := clickCountBroker(ctx, t)
			clicks := makeClicks(0, 2000)
			recs := produceTimestamped(ctx, t, cl, clicks)
			stateDir := t.TempDir()
			app := startApp(t, "app", addr, stateDir, "--guarantee", guarantee)
			out := committedTail(t, addr)
			waitCounts(ctx, t, out, clicks)
			if err := waitCommitted(ctx, adm, app, 20*time.Second); err != nil {
				t.Fatal(err)
			}
			stopClean(ctx, t, app)

			// Each user's output timestamps are its real clicks' timestamps, one each.
			want := map[string][]int64{}
			for i, c := range clicks {
				if !c.c.Bot {
					want[c.c.User] = append(want[c.c.User], recs[i].Timestamp.UnixMilli())
				}
			}
			got := map[string][]int64{}
			readTopic(ctx, t, addr, outputTopic, true, func(r *kgo.Record) {
				got[string(r.Key)] = append(got[string(r.Key)], r.Timestamp.UnixMilli())
			})
			for _, u := range slices.Sorted(maps.Keys(want)) {
				w, g := slices.Sorted(slices.Values(want[u])), slices.Sorted(slices.Values(got[u]))
				if !slices.Equal(w, g) {
					t.Errorf("user %s: output timestamps %v, want its real clicks' %v", u, g, w)
				}
			}

			// Stream time committed per input partition: the largest timestamp
			// of the records in it (bots count: stream time is taken before the filter).
			wantST := map[string]map[int32]int64{inputTopic: {}, repartitionTopic: {}}
			for _, r := range recs {
				wantST[inputTopic][r.Partition] = max(wantST[inputTopic][r.Partition], r.Timestamp.UnixMilli())
			}
			readTopic(ctx, t, addr, repartitionTopic, true, func(r *kgo.Record) {
				if len(r.Headers) > 0 {
					return // a checkpoint barrier, which no task reads as a record
				}
				wantST[repartitionTopic][r.Partition] = max(wantST[repartitionTopic][r.Partition], r.Timestamp.UnixMilli())
			})
			checkCommittedStreamTime(ctx, t, adm, wantST)

			// A restart resumes each task at its committed stream time.
			status := freeAddr(t)
			app = startApp(t, "app-again", addr, stateDir, "--guarantee", guarantee, "--status-addr", status)
			if err := poll(ctx, "/status shows every task's committed stream time", func() (bool, error) {
				return streamTimesShown(ctx, status, wantST)
			}); err != nil {
				t.Fatal(err)
			}
			stopClean(ctx, t, app)
		})
	}
}

// produceTimestamped writes clicks with event times 10 ms apart from
// timestampBase and returns the records as written (with their partitions).
func produceTimestamped(ctx context.Context, t *testing.T, cl *kgo.Client, clicks []inClick) []*kgo.Record {
	t.Helper()
	recs := make([]*kgo.Record, len(clicks))
	for i, c := range clicks {
		recs[i] = &kgo.Record{Topic: inputTopic, Key: []byte(c.id), Value: c.value(), Timestamp: time.UnixMilli(timestampBase + int64(i)*10)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkCommittedStreamTime requires the group's offset metadata of every
// partition in want to carry the stream time want gives it.
func checkCommittedStreamTime(ctx context.Context, t *testing.T, adm *kadm.Client, want map[string]map[int32]int64) {
	t.Helper()
	committed, err := fetchCommitted(ctx, adm)
	if err != nil {
		t.Fatal(err)
	}
	for topic, parts := range want {
		for p, ms := range parts {
			o, ok := committed.Lookup(topic, p)
			if wantMD := fmt.Sprintf("gofka-stream-time=%d", ms); !ok || o.Metadata != wantMD {
				t.Errorf("%s/%d: committed offset metadata %q, want %q", topic, p, o.Metadata, wantMD)
			}
		}
	}
}

// streamTimesShown reports whether /status shows, for every task, the stream
// time of its input partition: task 0_p reads the input's partition p, task 1_p
// the repartition topic's.
func streamTimesShown(ctx context.Context, status string, want map[string]map[int32]int64) (bool, error) {
	var view struct {
		Replica struct {
			Tasks []struct {
				Task       string `json:"task"`
				StreamTime int64  `json:"stream_time_ms"`
			} `json:"tasks"`
		} `json:"replica"`
	}
	body, err := httpGet(ctx, "http://"+status+"/status")
	if err != nil {
		return false, nil // not serving yet
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil {
		return false, fmt.Errorf("/status: %w", err)
	}
	shown := map[string]int64{}
	for _, tk := range view.Replica.Tasks {
		shown[tk.Task] = tk.StreamTime
	}
	for sub, topic := range []string{inputTopic, repartitionTopic} {
		for p, ms := range want[topic] {
			if st, ok := shown[fmt.Sprintf("%d_%d", sub, p)]; !ok || st != ms {
				return false, nil
			}
		}
	}
	return true, nil
}
