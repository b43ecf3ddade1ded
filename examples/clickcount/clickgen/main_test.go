package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestGenerate(t *testing.T) {
	a, b := Generate(7, 5000, 20), Generate(7, 5000, 20)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("click %d differs between two runs with the same seed: %+v, %+v", i, a[i], b[i])
		}
	}
	if c := Generate(8, 5000, 20); fmt.Sprint(c) == fmt.Sprint(a) {
		t.Error("seeds 7 and 8 give the same clicks")
	}
	users := map[string]bool{}
	bots := 0
	for _, c := range a {
		users[c.User] = true
		if c.Bot {
			bots++
		}
	}
	if len(users) != 20 {
		t.Errorf("%d users, want 20", len(users))
	}
	if bots < 400 || bots > 600 {
		t.Errorf("%d bots in 5000 clicks, want about a tenth", bots)
	}
	var total int64
	for _, n := range Expected(a) {
		total += n
	}
	if total != int64(5000-bots) {
		t.Errorf("expected counts add up to %d, want %d", total, 5000-bots)
	}
}

// fakeApp plays the clickcount application once: it reads every click in topic
// user-clicks and writes each user's running count to user-click-counts, adding
// delta to the count of the first user (to fake a wrong result).
func fakeApp(t *testing.T, brokers string, n, users int, delta int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics("user-clicks"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic("user-click-counts"))
	if err != nil {
		t.Error(err)
		return
	}
	defer cl.Close()
	counts := map[string]int64{}
	ctx := context.Background()
	for seen := 0; seen < n; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Error(err)
			return
		}
		fetches.EachRecord(func(r *kgo.Record) {
			seen++
			var c Click
			if err := json.Unmarshal(r.Value, &c); err != nil {
				t.Error(err)
				return
			}
			if c.Bot {
				return
			}
			counts[c.User]++
			n := counts[c.User]
			if c.User == userNames(users)[0] {
				n += delta
			}
			cl.Produce(ctx, &kgo.Record{Key: []byte(c.User), Value: binary.BigEndian.AppendUint64(nil, uint64(n))}, nil)
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Error(err)
	}
}

func cluster(t *testing.T) string {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3),
		kfake.SeedTopics(3, "user-clicks", "user-click-counts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func TestVerify(t *testing.T) {
	brokers := cluster(t)
	done := make(chan struct{})
	go func() { defer close(done); fakeApp(t, brokers, 3000, 5, 0) }()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--brokers", brokers, "--n", "3000", "--users", "5", "--seed", "3", "--verify", "--timeout", "20s"}, &stdout, &stderr)
	<-done
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, &stdout, &stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "user ") || !strings.HasSuffix(lines[6], " 5/5 ok") {
		t.Errorf("table:\n%s", &stdout)
	}
}

func TestVerifyReportsDifference(t *testing.T) {
	brokers := cluster(t)
	done := make(chan struct{})
	go func() { defer close(done); fakeApp(t, brokers, 500, 5, 1) }()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--brokers", brokers, "--n", "500", "--users", "5", "--verify", "--timeout", "2s"}, &stdout, &stderr)
	<-done
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "DIFF") || !strings.Contains(stdout.String(), " 4/5 ok") {
		t.Errorf("table:\n%s", &stdout)
	}
	if !strings.Contains(stderr.String(), "differ from the expected ones") {
		t.Errorf("stderr:\n%s", &stderr)
	}
}
