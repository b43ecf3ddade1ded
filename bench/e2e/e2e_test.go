package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// smokeConfig is a smoke test's run of the benchmark: 20,000 records, one run
// per contender, 4 partitions on embedded brokers, every output verified, the
// progress logged to t. It fails the test when java or mvn, which the Kafka
// Streams peer needs, is missing.
func smokeConfig(t *testing.T, contenders []string) config {
	t.Helper()
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the Kafka Streams peer (bench/peers/kstreams) needs %s on the PATH: install openjdk-17-jdk-headless and maven", tool)
		}
	}
	return config{
		n: 20_000, runs: 1, partitions: 4, broker: "embedded", contenders: contenders,
		timeout: 5 * time.Minute, verify: true, javaHeap: "1g", gofkaCommit: 5 * time.Second,
		command: "cd bench && go test ./e2e",
		logTo:   func(format string, args ...any) { t.Log(strings.TrimRight(fmt.Sprintf(format, args...), "\n")) },
	}
}

// TestEveryContenderCountsCorrectly is the benchmark's smoke mode: every
// contender (raw pipes, gofka, Kafka Streams with and without its cache, goka)
// runs once on 20,000 clicks, and each one's whole output is read back and
// checked against counts computed independently of all of them. It proves the
// peers implement click-count with the same semantics and byte formats as gofka,
// and that the harness, the report and the chart work. It runs on a fresh
// embedded broker per contender, never on a shared one (GOFKA_TEST_BROKERS):
// gofka's topology names its topics, so the benchmark deletes and recreates
// user-clicks, which would disturb other tests on a shared broker. make bench
// does the same checks on a real broker of its own. It needs java and mvn for
// the Kafka Streams peer.
func TestEveryContenderCountsCorrectly(t *testing.T) {
	cfg := smokeConfig(t, contenderIDs())
	dir := t.TempDir()
	cfg.out, cfg.chart = filepath.Join(dir, "e2e.md"), filepath.Join(dir, "e2e.png")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	rep, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contenders {
		var got *result
		for i := range rep.results {
			if rep.results[i].id == c.id {
				got = &rep.results[i]
			}
		}
		switch {
		case got == nil:
			t.Errorf("%s: no result", c.name)
		case got.records == 0 || got.cpu <= 0 || got.rssMB <= 0:
			t.Errorf("%s: implausible result %+v", c.name, *got)
		}
	}
	md, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contenders {
		if !bytes.Contains(md, []byte("| "+c.name+" |")) {
			t.Errorf("the report has no row for %s:\n%s", c.name, md)
		}
	}
	png, err := os.ReadFile(cfg.chart)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", cfg.chart)
	}
}

// TestVerifyCatchesWrongOutput checks that the output check rejects what a
// wrong implementation would write: a lost update, a duplicated one, a wrong
// final count, a bot counted, an undecodable count.
func TestVerifyCatchesWrongOutput(t *testing.T) {
	ctx, addr, cl, adm := scratchBroker(t)
	w := newWorkload(2000)

	// everyUpdate writes one count update per real click, in input order, then
	// applies change to the records.
	everyUpdate := func(change func([]*kgo.Record) []*kgo.Record) []*kgo.Record {
		var recs []*kgo.Record
		counts := map[string]int64{}
		for i := range w.values {
			user, bot := parseClick(t, w.values[i])
			if bot {
				continue
			}
			counts[user]++
			recs = append(recs, &kgo.Record{Key: []byte(user), Value: encodeCount(counts[user])})
		}
		return change(recs)
	}
	finalsOnly := func(change func([]*kgo.Record) []*kgo.Record) []*kgo.Record {
		var recs []*kgo.Record
		for user, n := range w.expected {
			recs = append(recs, &kgo.Record{Key: []byte(user), Value: encodeCount(n)})
		}
		return change(recs)
	}
	same := func(r []*kgo.Record) []*kgo.Record { return r }
	cases := []struct {
		name    string
		kind    outputKind
		records []*kgo.Record
		wrong   bool
	}{
		{"every update", updates, everyUpdate(same), false},
		{"a lost update", updates, everyUpdate(func(r []*kgo.Record) []*kgo.Record { return r[:len(r)-1] }), true},
		{"a duplicated update", updates, everyUpdate(func(r []*kgo.Record) []*kgo.Record { return append(r, &kgo.Record{Key: r[0].Key, Value: r[0].Value}) }), true},
		{"a bot counted", updates, everyUpdate(func(r []*kgo.Record) []*kgo.Record {
			return append(r, &kgo.Record{Key: []byte("nobody"), Value: encodeCount(1)})
		}), true},
		{"a count as text", updates, everyUpdate(func(r []*kgo.Record) []*kgo.Record {
			r[0] = &kgo.Record{Key: r[0].Key, Value: []byte("1")}
			return r
		}), true},
		{"final counts", finals, finalsOnly(same), false},
		{"every update as finals", finals, everyUpdate(same), false},
		{"a final count one short", finals, finalsOnly(func(r []*kgo.Record) []*kgo.Record {
			n, _ := decodeCount(r[0].Value)
			r[0] = &kgo.Record{Key: r[0].Key, Value: encodeCount(n - 1)}
			return r
		}), true},
		{"a user missing", finals, finalsOnly(func(r []*kgo.Record) []*kgo.Record { return r[1:] }), true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := fmt.Sprintf("verify-%d", i)
			if err := testkit.ResetTopics(ctx, adm, 2, topic); err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.records {
				r.Topic = topic
			}
			if err := cl.ProduceSync(ctx, tc.records...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			_, err := w.verify(ctx, addr, topic, tc.kind, false)
			if tc.wrong && err == nil {
				t.Error("verify accepted a wrong output")
			}
			if !tc.wrong && err != nil {
				t.Errorf("verify rejected a right output: %v", err)
			}
		})
	}
}

// scratchBroker starts an embedded broker for the test, with a client and an
// admin client on it; a minute bounds what ctx allows.
func scratchBroker(t *testing.T) (ctx context.Context, addr string, cl *kgo.Client, adm *kadm.Client) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if cl, err = kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()[0])); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return ctx, c.ListenAddrs()[0], cl, kadm.NewClient(cl)
}

func parseClick(t *testing.T, v []byte) (user string, bot bool) {
	t.Helper()
	var c struct {
		User string `json:"user"`
		Bot  bool   `json:"bot"`
	}
	if err := json.Unmarshal(v, &c); err != nil {
		t.Fatalf("click %q: %v", v, err)
	}
	return c.User, c.Bot
}

func encodeCount(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// TestSharesFromPprofTop reads cumulative percentages out of go tool pprof -top -cum.
func TestSharesFromPprofTop(t *testing.T) {
	top := `Duration: 5.20s, Total samples = 5.85s (112.43%)
      flat  flat%   sum%        cum   cum%
     0.05s  0.85%  6.67%      3.38s 57.78%  github.com/gofka/streams/runtime/engine.(*Engine).processPartition
         0     0%  6.67%      0.77s 13.16%  github.com/twmb/franz-go/pkg/kgo.(*Client).Produce (inline)
     0.62s 10.60% 18.46%      0.62s 10.60%  [libc.so.6]
`
	got := map[string]float64{}
	for _, s := range sharesFrom(top) {
		got[s.fn] = s.pct
	}
	for fn, want := range map[string]float64{
		"github.com/gofka/streams/runtime/engine.(*Engine).processPartition": 57.78,
		"github.com/twmb/franz-go/pkg/kgo.(*Client).Produce":                 13.16,
		"[libc.so.6]":             10.60,
		"encoding/json.Unmarshal": -1,
	} {
		if got[fn] != want {
			t.Errorf("%s: got %v, want %v", fn, got[fn], want)
		}
	}
	if table := sharesTable(sharesFrom(top)); strings.Contains(table, "encoding/json") {
		t.Errorf("the table shows a function the profile does not have:\n%s", table)
	}
}

// TestGofkaBaseContender checks that contender gofka-base, never a default,
// needs -gofka-base and then runs that binary with gofka's settings.
func TestGofkaBaseContender(t *testing.T) {
	cfg := config{contenders: []string{"gofka", "gofka-base"}, logTo: t.Logf}
	if err := (&report{}).choose(&cfg, contenders); err == nil {
		t.Fatal("gofka-base was chosen without -gofka-base")
	}
	cfg.gofkaBase = "/tmp/before/clickcount"
	rep := &report{}
	if err := rep.choose(&cfg, contenders); err != nil {
		t.Fatal(err)
	}
	if len(rep.chosen) != 2 || rep.chosen[1].id != "gofka-base" {
		t.Fatalf("chosen %v, want gofka and gofka-base", idsOf(rep.chosen))
	}
	if slices.Contains(contenderIDs(), "gofka-base") {
		t.Error("gofka-base is among the default contenders")
	}
	m := &measurement{cfg: &cfg}
	if args := rep.chosen[1].args(m); args[0] != cfg.gofkaBase || args[1] != "run" {
		t.Errorf("gofka-base runs %v, want %s run ...", args, cfg.gofkaBase)
	}
}
