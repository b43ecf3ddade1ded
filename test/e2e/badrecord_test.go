package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// badInput writes, to partition 0 of the input, 10 good clicks, one record whose
// value is not JSON (at offset 10), then 10 more good clicks. It returns the
// good clicks and the bad record.
func badInput(ctx context.Context, t *testing.T, addr string) ([]inClick, *kgo.Record) {
	t.Helper()
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	createTopics(ctx, t, kadm.NewClient(cl))
	good := makeClicks(0, 20)
	bad := &kgo.Record{Topic: inputTopic, Partition: 0, Key: []byte("click-bad"), Value: []byte("this is not JSON")}
	var recs []*kgo.Record
	for i, c := range good {
		if i == 10 {
			recs = append(recs, bad)
		}
		recs = append(recs, &kgo.Record{Topic: inputTopic, Partition: 0, Key: []byte(c.id), Value: c.value()})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if bad.Offset != 10 {
		t.Fatalf("the bad record is at offset %d, want 10", bad.Offset)
	}
	return good, bad
}

// committedAt is the group's committed offset of one input partition (0 when none).
func committedAt(ctx context.Context, t *testing.T, adm *kadm.Client, p int32) int64 {
	t.Helper()
	committed, err := fetchCommitted(ctx, adm)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := committed.Lookup(inputTopic, p)
	if !ok {
		return 0
	}
	return o.At
}

// TestBadRecordPolicies checks the three --on-bad-record policies on a value
// that is not JSON.
func TestBadRecordPolicies(t *testing.T) {
	t.Run("fail then skip", func(t *testing.T) {
		ctx := testContext(t, 60*time.Second)
		_, addr := startBroker(ctx, t)
		good, _ := badInput(ctx, t, addr)
		adm := kadm.NewClient(client(t, addr))
		stateDir := t.TempDir()

		app := startApp(t, "app-fail", addr, stateDir, "--on-bad-record", "fail")
		code, err := app.wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if code == 0 {
			t.Fatalf("with --on-bad-record fail the application exited with status 0 on a bad record")
		}
		log := app.out.String()
		if !strings.Contains(log, "topic user-clicks partition 0 offset 10: decode value") {
			t.Errorf("no log line names the bad record's topic, partition and offset (want \"topic user-clicks partition 0 offset 10: decode value\")")
		}
		// Nothing at or after the bad record is committed; what came before is.
		if at := committedAt(ctx, t, adm, 0); at != 10 {
			t.Errorf("after the failure the group committed offset %d of partition 0, want 10 (the bad record's)", at)
		}
		// Only clicks before the bad record may have been counted.
		before := expectedCounts(good[:10])
		for user, n := range readCounts(ctx, t, addr).latest {
			if n > before[user] {
				t.Errorf("after the failure %s has count %d, but only %d of its clicks come before the bad record", user, n, before[user])
			}
		}

		app2 := startApp(t, "app-skip", addr, stateDir, "--on-bad-record", "skip")
		want := expectedCounts(good)
		out := newTail(t, addr, outputTopic)
		if err := out.until(ctx, "the good records after the bad one are counted", equalCounts(want)); err != nil {
			t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
		}
		if err := app2.waitLog(ctx, `msg="bad record" app=click-count replica=0 policy=skip topic=user-clicks partition=0 offset=10`); err != nil {
			t.Error(err)
		}
		stopClean(ctx, t, app2)
		if !strings.Contains(app2.out.String(), "skipped=1 ") {
			t.Errorf("the final log line does not count 1 skipped record")
		}
		got := readCounts(ctx, t, addr)
		if got.records != realClicks(good) {
			t.Errorf("%d output records, want %d (each good click once)", got.records, realClicks(good))
		}
		if at := committedAt(ctx, t, adm, 0); at != 21 {
			t.Errorf("committed offset %d of partition 0, want 21 (past the skipped record)", at)
		}
	})

	t.Run("dead-letter", func(t *testing.T) {
		ctx := testContext(t, 60*time.Second)
		_, addr := startBroker(ctx, t)
		good, bad := badInput(ctx, t, addr)
		app := startApp(t, "app", addr, t.TempDir(), "--on-bad-record", "dead-letter")
		want := expectedCounts(good)
		out := newTail(t, addr, outputTopic)
		if err := out.until(ctx, "the good records are counted", equalCounts(want)); err != nil {
			t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
		}
		stopClean(ctx, t, app)
		if !regexp.MustCompile(`skipped=0 dead_lettered=1\b`).MatchString(app.out.String()) {
			t.Errorf("the final log line does not count 1 dead-lettered record")
		}

		dl := readAll(ctx, t, addr, deadLetterTopic)
		if len(dl) != 1 {
			t.Fatalf("%d records in %s, want 1", len(dl), deadLetterTopic)
		}
		r := dl[0]
		if string(r.Key) != string(bad.Key) || string(r.Value) != string(bad.Value) {
			t.Errorf("dead letter is %q=%q, want the bad record %q=%q", r.Key, r.Value, bad.Key, bad.Value)
		}
		headers := map[string]string{}
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
		for k, v := range map[string]string{"gofka.topic": inputTopic, "gofka.partition": "0", "gofka.offset": strconv.Itoa(10)} {
			if headers[k] != v {
				t.Errorf("header %s = %q, want %q", k, headers[k], v)
			}
		}
		if e := headers["gofka.error"]; !strings.Contains(e, "decode value") {
			t.Errorf("header gofka.error = %q, want the decode error", e)
		}
	})
}
