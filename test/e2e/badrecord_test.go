package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

		status := freeAddr(t)
		app2 := startApp(t, "app-skip", addr, stateDir, "--on-bad-record", "skip", "--status-addr", status)
		want := expectedCounts(good)
		out := newTail(t, addr, outputTopic)
		if err := out.until(ctx, "the good records after the bad one are counted", equalCounts(want)); err != nil {
			t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
		}
		if err := app2.waitLog(ctx, `msg="bad record" app=click-count replica=0 policy=skip topic=user-clicks partition=0 offset=10`); err != nil {
			t.Error(err)
		}
		badRecordsShown(ctx, t, status, badRecordCount{Topic: inputTopic, Partition: 0, Skipped: 1},
			`gofka_skipped_records_total{partition="0",reason="decode_value",topic="user-clicks"} 1`)
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
		status := freeAddr(t)
		app := startApp(t, "app", addr, t.TempDir(), "--on-bad-record", "dead-letter", "--status-addr", status)
		want := expectedCounts(good)
		out := newTail(t, addr, outputTopic)
		if err := out.until(ctx, "the good records are counted", equalCounts(want)); err != nil {
			t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
		}
		badRecordsShown(ctx, t, status, badRecordCount{Topic: inputTopic, Partition: 0, DeadLettered: 1},
			`gofka_dead_lettered_records_total{partition="0",topic="user-clicks"} 1`)
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

// badRecordCount is an entry of bad_records in GET /status.
type badRecordCount struct {
	Topic        string `json:"topic"`
	Partition    int32  `json:"partition"`
	Skipped      int64  `json:"skipped"`
	DeadLettered int64  `json:"dead_lettered"`
}

// badRecordsShown checks that the replica serving status shows the bad
// records per input partition: in /status (published at each commit, so
// polled) exactly want, and in /metrics the series metric. Input lag is
// published too, but for real partitions only: franz-go reports a poll's time
// limit as an error of topic "" partition -1, which once made a stray series.
func badRecordsShown(ctx context.Context, t *testing.T, status string, want badRecordCount, metric string) {
	t.Helper()
	var last []badRecordCount
	err := poll(ctx, fmt.Sprintf("/status shows %+v", want), func() (bool, error) {
		var st struct {
			Replica struct {
				BadRecords []badRecordCount `json:"bad_records"`
			} `json:"replica"`
		}
		body, err := httpGet(ctx, "http://"+status+"/status")
		if err != nil {
			return false, nil // not serving yet
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return false, err
		}
		last = st.Replica.BadRecords
		return len(last) == 1 && last[0] == want, nil
	})
	if err != nil {
		t.Fatalf("%v; bad_records is %+v", err, last)
	}
	metrics, err := httpGet(ctx, "http://"+status+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics, "\n"+metric+"\n") {
		t.Errorf("/metrics has no line %q:\n%s", metric, grepLines(metrics, "records_total"))
	}
	if !strings.Contains(metrics, `gofka_input_lag_records{partition="0",topic="user-clicks"}`) {
		t.Errorf("/metrics has no input lag of partition 0:\n%s", grepLines(metrics, "lag"))
	}
	if strings.Contains(metrics, `partition="-1"`) {
		t.Errorf("/metrics has a series of partition -1:\n%s", grepLines(metrics, `partition="-1"`))
	}
}

func httpGet(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}
