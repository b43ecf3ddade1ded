package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/internal/testkit"
)

// TestJoinsBesideKafkaStreams runs gofka's join examples and the same
// topologies written in Kafka Streams 3.9.1 (bench/peers/kstreams: AdClicks,
// TableJoin, FKJoin, OrderEnrich, TableTable; no record cache, so Kafka Streams forwards every update as
// gofka does) on one input, read by both from the same single-partition topics,
// and compares what they write (Kafka Streams writes to "ks-" + the gofka
// example's output topic).
//
// What makes the outputs comparable: each topic has one partition, so each
// side of a join is read in the order written, and the only freedom an engine
// has is how it interleaves the two sides of a join. Where that freedom could
// change the output, the input is written in phases: one side's records, then
// a wait until both engines have written the phase's last record's result (a
// sentinel), then the other side's. A phase then reaches each engine whole,
// after the previous phase, and the output is a function of the input alone:
// the same sequence of records per key (for the foreign-key joins, whose
// answers for different orders may leave a customer's task in any order) or in
// all (the stream-table join). The stream-stream join (adclicks) is written in
// one go: its matches do not depend on the interleaving (no record is late,
// see adInput), only their order does, so it is compared as a multiset. A nil
// foreign key (gofka drops the row from the join, Kafka Streams 3.7+ emits it
// unjoined in a left join) is kept out of the input.
//
// It runs on the real-Kafka tier, where a Kafka Streams client belongs.
func TestJoinsBesideKafkaStreams(t *testing.T) {
	if sharedBroker() == "" {
		t.Skipf("compares with Kafka Streams on a real broker: runs in the real-Kafka tier (test/kafka/run-tier.sh, make test-kafka), which sets %s", brokersEnv)
	}
	ctx := testContext(t, 5*time.Minute)
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	peer := testkit.KStreamsPeerDir(root)
	if err := testkit.BuildKStreamsPeer(peer, t.Logf); err != nil {
		t.Fatal(err)
	}
	bins := buildExamples(ctx, t, "adclicks", "orderpayments", "tablejoin", "fkjoin", "orderenrich", "tabletable")
	t.Run("adclicks", func(t *testing.T) { adClicksBesideKStreams(ctx, t, peer, bins["adclicks"]) })
	t.Run("orderpayments", func(t *testing.T) { orderPaymentsBesideKStreams(ctx, t, peer, bins["orderpayments"]) })
	t.Run("tablejoin", func(t *testing.T) { tableJoinBesideKStreams(ctx, t, peer, bins["tablejoin"]) })
	t.Run("fkjoin", func(t *testing.T) { fkJoinBesideKStreams(ctx, t, peer, bins["fkjoin"]) })
	t.Run("orderenrich", func(t *testing.T) { orderEnrichBesideKStreams(ctx, t, peer, bins["orderenrich"]) })
	t.Run("tabletable", func(t *testing.T) { tableTableBesideKStreams(ctx, t, peer, bins["tabletable"]) })
}

// buildExamples builds examples/<name> for each name with one go build (the
// packages compile and link in parallel), and returns each binary's path.
func buildExamples(ctx context.Context, t *testing.T, names ...string) map[string]string {
	t.Helper()
	root, err := repoRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir, start := t.TempDir(), time.Now()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	bins := map[string]string{}
	for _, n := range names {
		args = append(args, "./examples/"+n)
		bins[n] = filepath.Join(dir, n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built %v in %.1f s", names, time.Since(start).Seconds())
	return bins
}

// joinPeers is a gofka example and its Kafka Streams peer running on the
// emptied shared broker.
type joinPeers struct {
	t         *testing.T
	ctx       context.Context
	addr      string
	cl        *kgo.Client
	gofka, ks *proc
}

// startJoinPeers empties the shared broker, creates inputs and outputs (and
// "ks-" + each output) with one partition each, and starts the example's
// binary bin and the peer's class with flags, each with an application id of
// its own.
// It returns once both consume.
func startJoinPeers(ctx context.Context, t *testing.T, peer, bin, class string, inputs, outputs []string, flags ...string) *joinPeers {
	t.Helper()
	example, start := filepath.Base(bin), time.Now()
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	topics := slices.Clone(inputs)
	for _, o := range outputs {
		topics = append(topics, o, "ks-"+o)
	}
	if resp, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, topics...); err != nil || resp.Error() != nil {
		t.Fatalf("create topics %v: %v %v", topics, err, resp.Error())
	}
	j := &joinPeers{t: t, ctx: ctx, addr: addr, cl: cl}
	j.gofka = startBinary(t, bin, example, "run", "--brokers", addr, "--state-dir", t.TempDir(), "--commit-interval", "200ms")
	cmd := testkit.KStreamsPeerCommand(peer, "384m", "gofka.bench."+class, append([]string{
		"--bootstrap", addr, "--app-id", "ks-" + example, "--state-dir", t.TempDir(),
		"--commit-ms", "200", "--cache-bytes", "0", "--leave-group", "true"}, flags...)...)
	j.ks = startBinary(t, cmd[0], "kstreams-"+example, cmd[1:]...)
	stopKStreamsAtCleanup(t, j.ks, example, start)
	if err := j.gofka.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	// RUNNING: the client has its tasks and has restored them; it reads the
	// inputs from their start (auto.offset.reset earliest).
	if err := j.ks.waitLog(ctx, "-> RUNNING"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: both engines running after %.1f s", example, time.Since(start).Seconds())
	return j
}

// stopKStreamsAtCleanup stops ks, a Kafka Streams peer started with
// --leave-group true at start, with SIGTERM when the test ends, before the kill
// of startBinary's clean-up: the client removes its (static) members from its
// consumer group, which emptying the broker then deletes at once (a member that
// does not leave keeps the group until its session times out, 45 s).
func stopKStreamsAtCleanup(t *testing.T, ks *proc, name string, start time.Time) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopping := time.Now()
		defer func() {
			t.Logf("%s: Kafka Streams stopped in %.1f s, %.1f s after the start", name, time.Since(stopping).Seconds(), time.Since(start).Seconds())
		}()
		// The JVM exits 143 (128 + SIGTERM) once its shutdown hook has closed the client.
		if code, err := ks.stop(ctx); err != nil || (code != 0 && code != 143) {
			t.Logf("stop the Kafka Streams peer: status %d, %v", code, err)
		}
	})
}

// produce writes recs and waits for the broker's acknowledgement.
func (j *joinPeers) produce(recs ...*kgo.Record) {
	j.t.Helper()
	produceSync(j.ctx, j.t, j.cl, recs...)
}

// waitBoth polls until done accepts what each engine has written to output
// (gofka's topic, and Kafka Streams' "ks-" one); it fails if either exits.
func (j *joinPeers) waitBoth(what, output string, done func([]outRec) bool) {
	j.t.Helper()
	start := time.Now()
	defer func() { j.t.Logf("%s: waited %.1f s", what, time.Since(start).Seconds()) }()
	for _, topic := range []string{output, "ks-" + output} {
		err := pollEvery(j.ctx, 200*time.Millisecond, fmt.Sprintf("%s in %s", what, topic), func() (bool, error) {
			if j.gofka.exited() || j.ks.exited() {
				return false, fmt.Errorf("a program exited: gofka %v, Kafka Streams %v", j.gofka.err, j.ks.err)
			}
			return done(j.read(topic)), nil
		})
		if err != nil {
			j.t.Fatal(err)
		}
	}
}

// outRec is an output record as compared: the key, the value (JSON with its
// fields sorted, a count as a number, "<nil>" for a tombstone) and the
// timestamp.
type outRec struct {
	key, value string
	ts         int64
}

func (r outRec) String() string { return fmt.Sprintf("%s=%s@%d", r.key, r.value, r.ts) }

// read is topic's records in offset order (one partition).
func (j *joinPeers) read(topic string) []outRec {
	j.t.Helper()
	var out []outRec
	readTopic(j.ctx, j.t, j.addr, topic, false, func(r *kgo.Record) {
		out = append(out, outRec{keyOf(r), canonValue(r.Value), r.Timestamp.UnixMilli()})
	})
	return out
}

// keyOf is r's key, or nullKey for a null key (not the empty key).
func keyOf(r *kgo.Record) string {
	if r.Key == nil {
		return nullKey
	}
	return string(r.Key)
}

const nullKey = "<null>"

// canonValue makes values written by Go's encoding/json and by Jackson
// comparable: JSON objects are re-encoded with sorted fields; 8 bytes that are
// not JSON are a big-endian int64 (a count).
func canonValue(v []byte) string {
	if v == nil {
		return "<nil>"
	}
	if bytes.HasPrefix(v, []byte("{")) {
		var m map[string]any
		if err := json.Unmarshal(v, &m); err == nil {
			b, _ := json.Marshal(m)
			return string(b)
		}
	}
	if len(v) == 8 {
		return fmt.Sprint(int64(binary.BigEndian.Uint64(v)))
	}
	return fmt.Sprintf("%q", v)
}

// byKey groups records by key, each key's in the order written.
func byKey(recs []outRec) map[string][]outRec {
	out := map[string][]outRec{}
	for _, r := range recs {
		out[r.key] = append(out[r.key], r)
	}
	return out
}

// latest is the last value per key (a tombstone removes the key).
func latest(recs []outRec) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		if r.value == "<nil>" {
			delete(out, r.key)
		} else {
			out[r.key] = r.value
		}
	}
	return out
}

// diffSeq lists where got and want, two sequences, differ.
func diffSeq(got, want []outRec) []string {
	var lines []string
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if g != w {
			lines = append(lines, fmt.Sprintf("  #%d: %s, want %s", i, orNone(g), orNone(w)))
		}
	}
	return lines
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// compareByKey reports every key whose sequence of records differs.
func compareByKey(t *testing.T, what string, got, want []outRec) {
	t.Helper()
	g, w := byKey(got), byKey(want)
	var lines []string
	for _, k := range sortedKeys(g, w) {
		if d := diffSeq(g[k], w[k]); len(d) > 0 {
			lines = append(lines, fmt.Sprintf(" key %s: %v, want %v", k, g[k], w[k]))
		}
	}
	reportLines(t, what, len(got), len(want), lines)
}

// compareSeq reports where two whole sequences differ.
func compareSeq(t *testing.T, what string, got, want []outRec) {
	t.Helper()
	reportLines(t, what, len(got), len(want), diffSeq(got, want))
}

// compareMultiset reports records written a different number of times.
func compareMultiset(t *testing.T, what string, got, want []outRec) {
	t.Helper()
	count := func(rs []outRec) map[string]int {
		m := map[string]int{}
		for _, r := range rs {
			m[r.String()]++
		}
		return m
	}
	g, w := count(got), count(want)
	var lines []string
	for _, k := range sortedKeys(g, w) {
		if g[k] != w[k] {
			lines = append(lines, fmt.Sprintf("  %s: %d times, want %d", k, g[k], w[k]))
		}
	}
	reportLines(t, what, len(got), len(want), lines)
}

func reportLines(t *testing.T, what string, ngot, nwant int, lines []string) {
	t.Helper()
	if len(lines) == 0 {
		return
	}
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("  ... and %d more", len(lines)-20))
	}
	t.Errorf("%s: %d records, want %d; differences:\n%s", what, ngot, nwant, strings.Join(lines, "\n"))
}

// sortedKeys is the sorted union of two maps' keys.
func sortedKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// adClicksBesideKStreams: examples/adclicks (stream-stream left join, 10 min
// after, 1 min grace) and AdClicks on adInput, then one impression two hours
// later that closes every window so the unclicked impressions are written.
// Both must write bruteForceAttributions, with the same timestamps (the later
// of the two records joined; the impression's for an unclicked one).
func adClicksBesideKStreams(ctx context.Context, t *testing.T, peer, bin string) {
	j := startJoinPeers(ctx, t, peer, bin, "AdClicks", []string{adImpressions, adClicks}, []string{adAttributions},
		"--out", "ks-"+adAttributions, "--join-emit-interval-ms", "0")
	evs := adInput(400)
	want := bruteForceAttributions(evs)
	var recs []*kgo.Record
	for _, e := range evs {
		recs = append(recs, adRecord(e))
	}
	j.produce(recs...)
	clicked := func(rs []outRec) int {
		n := 0
		for _, r := range rs {
			if strings.Contains(r.value, `"clicked":true`) {
				n++
			}
		}
		return n
	}
	j.waitBoth("every clicked attribution", adAttributions, func(rs []outRec) bool { return clicked(rs) >= matched(want) })
	j.produce(adRecord(adEvent{id: "tick", user: "tick", ad: "tick", ts: adBase + 2*3600_000}))
	j.waitBoth("every attribution", adAttributions, func(rs []outRec) bool { return len(rs) >= total(want) })

	// The brute force, with timestamps.
	var wantRecs []outRec
	for _, imp := range evs {
		if imp.click {
			continue
		}
		n := 0
		for _, c := range evs {
			if c.click && c.id == imp.id && c.ts >= imp.ts && c.ts <= imp.ts+10*60_000 {
				n++
				wantRecs = append(wantRecs, outRec{imp.id, canonValue(mustJSON(adAttribution{imp.ad, imp.user, true})), c.ts})
			}
		}
		if n == 0 {
			wantRecs = append(wantRecs, outRec{imp.id, canonValue(mustJSON(adAttribution{imp.ad, imp.user, false})), imp.ts})
		}
	}
	gofka, ks := j.read(adAttributions), j.read("ks-"+adAttributions)
	compareMultiset(t, "gofka vs Kafka Streams", gofka, ks)
	compareMultiset(t, "gofka vs the brute force", gofka, wantRecs)
	compareMultiset(t, "Kafka Streams vs the brute force", ks, wantRecs)
	t.Logf("adclicks: %d attributions (%d clicked) from each engine, %d expected", len(gofka), clicked(gofka), len(wantRecs))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
