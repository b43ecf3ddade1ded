package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// buildExample builds examples/<name> (its committed gofka_gen.go) into a temp dir.
func buildExample(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/"+name)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return bin
}

// startExample runs an example binary and returns its broker's address once
// the application consumes. By default the binary starts its own embedded broker
// on a free port (--embedded-listen), as a user runs it on a machine with
// nothing installed. On the shared real broker (GOFKA_TEST_BROKERS) it runs
// with --brokers, after the test created the example's source and sink topics:
// a real broker creates no topic by itself, and an application creates only its
// internal topics.
func startExample(ctx context.Context, t *testing.T, bin string, topics ...string) (*proc, string) {
	t.Helper()
	return startExampleWith(ctx, t, bin, nil, topics...)
}

// startExampleWith is startExample with more flags for the binary.
func startExampleWith(ctx context.Context, t *testing.T, bin string, flags []string, topics ...string) (*proc, string) {
	t.Helper()
	name := filepath.Base(bin)
	args := append([]string{"--state-dir", t.TempDir(), "--commit-interval", "200ms"}, flags...)
	var addr string
	if sharedBroker() != "" {
		_, addr = startBroker(ctx, t)
		resp, err := kadm.NewClient(client(t, addr)).CreateTopics(ctx, 3, 1, nil, topics...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("create the topics of %s: %v", name, err)
		}
		args = append(args, "--brokers", addr)
	} else {
		addr = freeAddr(t)
		args = append(args, "--embedded-listen", addr, "--embedded-partitions", "3")
	}
	p := startBinary(t, bin, name, args...)
	if err := p.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	return p, addr
}

// readUntil reads topics from the start until done accepts what was read.
func readUntil(ctx context.Context, t *testing.T, addr string, topics []string, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for !done(recs) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			t.Fatalf("timed out with %d records read from %v", len(recs), topics)
		}
		fetches.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

// TestWordCountExample runs the word-count binary, on its embedded broker or on
// the shared real one (see startExample), as a user would: an outside client
// writes lines and reads the counts.
func TestWordCountExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, addr := startExample(ctx, t, buildExample(ctx, t, "wordcount"), "text-lines", "word-counts")

	lines := []string{"The quick brown fox", "jumps over the lazy dog", "THE END", "  ", "fox and dog and the fox"}
	want := map[string]int64{}
	for _, l := range lines {
		for _, w := range strings.Fields(l) {
			want[strings.ToLower(w)]++
		}
	}
	cl := client(t, addr)
	for i, l := range lines {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "text-lines", Key: []byte(fmt.Sprint(i)), Value: []byte(l)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	readLatestCounts(ctx, t, addr, "word-counts", want)
	stopClean(ctx, t, app)
}

// readLatestCounts reads topic (key: a string, value: an int64 count, 8 bytes
// big-endian) until the latest count of every key in want equals it, and
// requires no other key.
func readLatestCounts(ctx context.Context, t *testing.T, addr, topic string, want map[string]int64) {
	t.Helper()
	latest := map[string]int64{}
	readUntil(ctx, t, addr, []string{topic}, func(recs []*kgo.Record) bool {
		for _, r := range recs {
			latest[string(r.Key)] = int64(binary.BigEndian.Uint64(r.Value))
		}
		for k, n := range want {
			if latest[k] != n {
				return false
			}
		}
		return true
	})
	if len(latest) != len(want) {
		t.Errorf("%s: %d keys counted, want %d: %v", topic, len(latest), len(want), latest)
	}
}

// TestEnrichExample runs the stateless enrichment binary (on its embedded broker
// or the shared real one, see startExample): bad URLs are dropped, admin views
// go to admin-views, the rest to enriched-views.
func TestEnrichExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, addr := startExample(ctx, t, buildExample(ctx, t, "enrich"), "page-views", "enriched-views", "admin-views")

	type view struct {
		User        string `json:"user"`
		URL         string `json:"url"`
		TimestampMs int64  `json:"timestamp_ms"`
	}
	views := []view{
		{"ann", "https://Shop.example/products/42", 0},
		{"bob", "https://shop.example/admin/users", 6 * 3600_000},
		{"cid", "", 0},                     // dropped: no URL
		{"dee", "ftp://shop.example/x", 0}, // dropped: not http
		{"eve", "https://shop.example/", 13 * 3600_000},
		{"fay", "https://shop.example/x/../ADMIN", 0},
	}
	cl := client(t, addr)
	for _, v := range views {
		b, _ := json.Marshal(v)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "page-views", Key: []byte(v.User), Value: b}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	recs := readUntil(ctx, t, addr, []string{"enriched-views", "admin-views"}, func(recs []*kgo.Record) bool { return len(recs) >= 4 })
	got := map[string]string{}
	for _, r := range recs {
		var e struct {
			Section string `json:"section"`
			Host    string `json:"host"`
		}
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Fatalf("%s: %v", r.Value, err)
		}
		got[string(r.Key)] = r.Topic + " " + e.Section + " " + e.Host
	}
	want := map[string]string{
		"ann": "enriched-views products shop.example",
		"bob": "admin-views admin shop.example",
		"eve": "enriched-views home shop.example",
		"fay": "admin-views admin shop.example",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	stopClean(ctx, t, app)
}
