package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker restarts: click-count on three replicas against a three-node Apache
// Kafka KRaft cluster of the test's own (kafka.sh start-cluster: every topic,
// the internal ones too, with 3 replicas and min.insync.replicas 2), while one
// node at a time is stopped and started again, again and again, as clicks
// stream in. Stops alternate between a clean one (SIGTERM: a controlled
// shutdown moves the node's leaderships first) and SIGKILL (its partitions
// have no leader until the controller fences it). Each time the test waits
// until the node has rejoined and no partition is under-replicated before the
// next stop, so that two replicas of everything are always in sync.
//
// The cluster needs the real-Kafka tier: test/kafka/run-tier.sh exports
// GOFKA_TEST_KAFKA_SH, the path of kafka.sh. Sizes: GOFKA_BROKER_RESTARTS
// (default 3), GOFKA_BROKER_CLICKS (default 20,000), GOFKA_BROKER_SEED (which
// node stops when; default the clock, logged); make chaos runs it bigger.

// kafkaShEnv names the variable that gives the path of test/kafka/kafka.sh.
const kafkaShEnv = "GOFKA_TEST_KAFKA_SH"

// TestExactlyOnceBrokerRestarts: under --guarantee exactly-once the committed
// output holds, for every user, exactly the counts 1, 2, …, n, the committed
// read reaches every partition's high watermark (no transaction left open),
// and no replica exited on the way.
func TestExactlyOnceBrokerRestarts(t *testing.T) {
	r := runBrokerRestarts(t, eosFlag...)
	waitCounts(r.ctx, t, committedTail(t, r.addr), r.clicks)
	r.finish()
	checkExactlyOnce(r.ctx, t, r.addr, r.clicks)
}

// TestAtLeastOnceBrokerRestarts is the same loop under at-least-once: no click
// is lost (every user's output reaches each count 1, 2, …, n), and the
// duplicates, if any, are reported.
func TestAtLeastOnceBrokerRestarts(t *testing.T) {
	r := runBrokerRestarts(t)
	checkComplete(r.ctx, t, r.addr, r.adm, r.clicks)
	r.finish()
	got := readCounts(r.ctx, t, r.addr)
	want := expectedCounts(r.clicks)
	for _, user := range slices.Sorted(maps.Keys(want)) {
		seen := map[int64]bool{}
		for _, v := range got.updates[user] {
			seen[v] = true
		}
		for n := int64(1); n <= want[user]; n++ {
			if !seen[n] {
				t.Errorf("%s: no output update carries count %d of %d: a click was lost", user, n, want[user])
				break
			}
		}
	}
	t.Logf("at-least-once under broker restarts: %d output records for %d real clicks: %d duplicates",
		got.records, realClicks(r.clicks), got.records-realClicks(r.clicks))
}

// brokerRun is what a broker-restart run leaves to check.
type brokerRun struct {
	t      *testing.T
	ctx    context.Context
	step   func(format string, args ...any) // logs with the time since the start
	k      *kafkaCluster
	c      *cluster
	addr   string // the bootstrap list
	cl     *kgo.Client
	adm    *kadm.Client
	clicks []inClick
}

// runBrokerRestarts starts a three-node Kafka cluster and three replicas of
// click-count with extra flags, and restarts random nodes while the clicks
// stream in. The clicks come in segments, one more after each node is
// stopped, so that every restart happens under load.
func runBrokerRestarts(t *testing.T, extra ...string) *brokerRun {
	restarts := envInt(t, "GOFKA_BROKER_RESTARTS", 3)
	total := envInt(t, "GOFKA_BROKER_CLICKS", 20000)
	seed := uint64(envInt(t, "GOFKA_BROKER_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("broker restarts: %d restarts, %d clicks, GOFKA_BROKER_SEED=%d", restarts, total, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	r := startBrokerRun(testContext(t, time.Duration(120+60*restarts+total/500)*time.Second), t, extra...)

	const chunk = 100
	seg := total / (restarts + 1) / chunk * chunk
	if seg == 0 {
		t.Fatalf("%d clicks are too few for %d restarts (at least %d)", total, restarts, chunk*(restarts+1))
	}
	r.clicks = makeClicks(0, total)
	stopped := make([]chan struct{}, restarts)
	pauses := map[int]<-chan struct{}{}
	for i := range stopped {
		stopped[i] = make(chan struct{})
		pauses[(i+1)*seg] = stopped[i]
	}
	var produced atomic.Int64
	prodDone := streamClicks(r.ctx, r.cl, r.clicks, &produced, clickStream{chunk: chunk, gap: 40 * time.Millisecond, pauses: pauses})
	out := committedTail(t, r.addr)
	for i := range restarts {
		before := out.c.records
		if err := out.until(r.ctx, "the output grows", func(c *counts) bool { return c.records > before || r.exited() != nil }); err != nil {
			t.Fatal(err)
		}
		if err := r.exited(); err != nil {
			t.Fatal(err)
		}
		r.restart(i+1, 1+rng.IntN(3), i%2 == 1, &produced, func() {
			close(stopped[i])
			// Down for a while under load: until the producer has written
			// some of the next segment (a killed node's partitions have no
			// leader until it is fenced), or has written everything.
			if err := poll(r.ctx, "clicks are written while the node is down", func() (bool, error) {
				return produced.Load() >= int64(min((i+1)*seg+seg/2, total)), r.exited()
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := <-prodDone; err != nil {
		t.Fatalf("produce: %v", err)
	}
	r.step("all %d clicks produced", total)
	return r
}

// startBrokerRun starts the Kafka cluster, creates click-count's topics with
// 3 replicas, and starts three replicas with extra flags.
func startBrokerRun(ctx context.Context, t *testing.T, extra ...string) *brokerRun {
	begin := time.Now()
	r := &brokerRun{t: t, ctx: ctx, step: func(format string, args ...any) {
		t.Logf("%6.1fs %s", time.Since(begin).Seconds(), fmt.Sprintf(format, args...))
	}}
	r.k = startKafkaCluster(ctx, t, 3)
	r.addr = r.k.bootstrap
	r.step("Kafka cluster of 3 nodes at %s", r.addr)
	r.cl = client(t, r.addr)
	r.adm = kadm.NewClient(r.cl)
	resp, err := r.adm.CreateTopics(ctx, partitions, 3, nil, inputTopic, outputTopic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	// The application looks its source topic up once, on any node.
	r.k.waitTopics(ctx, r.cl, inputTopic, outputTopic)
	r.c = newCluster(t, r.addr, 3, append([]string{"--checkpoint-interval", "2s"}, extra...)...)
	r.c.startAll()
	r.c.everyTaskRunning(ctx, []int{0, 1, 2})
	r.step("every task runs")
	return r
}

// restart stops node (SIGKILL when kill, else SIGTERM), runs down while it is
// down, starts it again and waits until no partition is under-replicated.
func (r *brokerRun) restart(n, node int, kill bool, produced *atomic.Int64, down func()) {
	r.t.Helper()
	how := "stopped (SIGTERM)"
	if kill {
		how = "SIGKILLed"
	}
	clicksIn, committed := produced.Load(), committedEnd(r.ctx, r.adm)
	r.k.stopNode(r.ctx, node, kill)
	r.step("restart %d: node %d %s with %d clicks produced, %d output records committed", n, node, how, clicksIn, committed)
	down()
	r.k.startNode(r.ctx, node)
	r.step("restart %d: node %d serves metadata again", n, node)
	r.k.waitInSync(r.ctx, r.adm)
	r.step("restart %d: no partition under-replicated", n)
}

// exited says which replica exited, and why, if one did: a failure.
func (r *brokerRun) exited() error {
	for _, p := range r.c.procs {
		if p.exited() {
			return fmt.Errorf("replica %s exited during the broker restarts (%v):\n%s", p.name, p.err, lastLines(p.out.String(), 40))
		}
	}
	return nil
}

// finish waits until the group has committed all input, requires that no
// replica exited (none was restarted: the same three processes ran
// throughout), and stops them cleanly.
func (r *brokerRun) finish() {
	r.t.Helper()
	var last error
	if err := poll(r.ctx, "the group commits all input", func() (bool, error) {
		ok, lag, err := consumedAll(r.ctx, r.adm)
		// A request cut off by a node's restart (EOF) is tried again.
		last = err
		if err == nil && !ok {
			last = fmt.Errorf("lag:%s", lag)
		}
		return ok, nil
	}); err != nil {
		r.t.Errorf("%v: %v", err, last)
	}
	// What the replicas met, for the record: each drop of their tasks (an
	// aborted transaction under exactly-once) and each retried fetch or commit.
	for _, msg := range []string{`msg="fenced: dropped every task`, `msg="fetch failed; retrying"`, `msg="commit offsets failed; retrying"`} {
		n := 0
		for _, p := range r.c.all {
			n += strings.Count(p.out.String(), msg)
		}
		r.t.Logf("replicas' logs: %d × %s", n, msg)
	}
	if err := r.exited(); err != nil {
		r.t.Error(err)
	}
	if len(r.c.all) != len(r.c.procs) {
		r.t.Errorf("%d replica processes were started, want %d", len(r.c.all), len(r.c.procs))
	}
	if r.t.Failed() {
		r.t.FailNow()
	}
	for _, p := range r.c.procs {
		stopClean(r.ctx, r.t, p)
	}
}

// kafkaCluster is a KRaft cluster of Apache Kafka nodes the test started with
// kafka.sh start-cluster in a directory of its own, stopped when it ends.
type kafkaCluster struct {
	t         *testing.T
	sh        string // path of kafka.sh
	dir       string
	nodes     int
	bootstrap string // host:port,…
}

// startKafkaCluster starts n nodes, or skips the test outside the real-Kafka tier.
func startKafkaCluster(ctx context.Context, t *testing.T, n int) *kafkaCluster {
	t.Helper()
	sh := os.Getenv(kafkaShEnv)
	if sh == "" {
		t.Skipf("needs a Kafka cluster of its own: runs in the real-Kafka tier (test/kafka/run-tier.sh, make test-kafka), which sets %s", kafkaShEnv)
	}
	k := &kafkaCluster{t: t, sh: sh, dir: t.TempDir(), nodes: n}
	// Registered after t.TempDir, so it runs before the directory is removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			for i := 1; i <= n; i++ {
				b, _ := os.ReadFile(filepath.Join(k.dir, fmt.Sprintf("node-%d", i), "server.log"))
				t.Logf("--- end of Kafka node %d's server.log:\n%s", i, lastLines(string(b), 60))
			}
		}
		if _, err := k.run(ctx, "stop", k.dir); err != nil {
			t.Errorf("stop the Kafka cluster: %v", err)
		}
	})
	out, err := k.run(ctx, "start-cluster", k.dir, strconv.Itoa(n))
	if err != nil {
		t.Fatalf("start a Kafka cluster of %d nodes: %v", n, err)
	}
	k.bootstrap = out
	return k
}

// run runs kafka.sh with args and returns the last line it printed.
func (k *kafkaCluster) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, k.sh, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kafka.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return lastLines(strings.TrimSpace(stdout.String()), 1), nil
}

// stopNode stops node i, with SIGKILL when kill, else cleanly.
func (k *kafkaCluster) stopNode(ctx context.Context, i int, kill bool) {
	k.t.Helper()
	args := []string{"stop-node", k.dir, strconv.Itoa(i)}
	if kill {
		args = append(args, "--kill")
	}
	if _, err := k.run(ctx, args...); err != nil {
		k.t.Fatal(err)
	}
}

// startNode starts node i again and returns once it serves metadata.
func (k *kafkaCluster) startNode(ctx context.Context, i int) {
	k.t.Helper()
	if _, err := k.run(ctx, "start-node", k.dir, strconv.Itoa(i)); err != nil {
		k.t.Fatal(err)
	}
}

// waitInSync waits until every partition, Kafka's internal topics' too, has a
// leader and all its replicas in sync.
func (k *kafkaCluster) waitInSync(ctx context.Context, adm *kadm.Client) {
	k.t.Helper()
	var lagging []string
	err := pollEvery(ctx, 200*time.Millisecond, "no partition is under-replicated", func() (bool, error) {
		topics, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			lagging = []string{err.Error()}
			return false, nil // a node is still restarting
		}
		lagging = nil
		topics.EachPartition(func(p kadm.PartitionDetail) {
			if p.Err != nil || p.Leader < 0 || len(p.ISR) < len(p.Replicas) {
				lagging = append(lagging, fmt.Sprintf("%s/%d isr %v of %v", p.Topic, p.Partition, p.ISR, p.Replicas))
			}
		})
		return len(lagging) == 0 && len(topics) > 0, nil
	})
	if err != nil {
		k.t.Fatalf("%v: %v", err, lagging)
	}
}

// waitTopics waits until every node's metadata has the topics with all their
// partitions led: the controller has created them, but each node learns it
// from the metadata log a moment later.
func (k *kafkaCluster) waitTopics(ctx context.Context, cl *kgo.Client, topics ...string) {
	k.t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	for node := int32(1); node <= int32(k.nodes); node++ {
		var last string
		err := poll(ctx, fmt.Sprintf("node %d knows the topics %v", node, topics), func() (bool, error) {
			resp, err := req.RequestWith(ctx, cl.Broker(int(node)))
			if err != nil {
				last = err.Error()
				return false, nil
			}
			for _, t := range resp.Topics {
				if err := kerr.ErrorForCode(t.ErrorCode); err != nil || len(t.Partitions) != partitions {
					last = fmt.Sprintf("%s: %v, %d partitions", *t.Topic, err, len(t.Partitions))
					return false, nil
				}
				for _, p := range t.Partitions {
					if p.Leader < 0 {
						last = fmt.Sprintf("%s/%d has no leader", *t.Topic, p.Partition)
						return false, nil
					}
				}
			}
			return true, nil
		})
		if err != nil {
			k.t.Fatalf("%v: %s", err, last)
		}
	}
}

// committedEnd is the number of committed output records (the sum of the
// output partitions' last stable offsets, control records included), or -1
// when a node's restart cut the request off.
func committedEnd(ctx context.Context, adm *kadm.Client) int64 {
	ends, err := adm.ListCommittedOffsets(ctx, outputTopic)
	if err != nil || ends.Error() != nil {
		return -1
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
