package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Exactly-once (--guarantee exactly-once): the output, read read_committed,
// carries for every user exactly the updates 1, 2, …, n, however the
// application was stopped, killed or failed on the way (checkUpdates): an
// update processed twice and made visible would repeat a count, a lost one
// would skip one.

var eosFlag = []string{"--guarantee", "exactly-once"}

// committedTail reads the output topic read_committed as it grows.
func committedTail(t *testing.T, addr string) *tail {
	cl := client(t, addr, kgo.ConsumeTopics(outputTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	return &tail{cl: cl, c: newCounts()}
}

// readOutput reads the whole output topic to its end, read_committed or not.
func readOutput(ctx context.Context, t *testing.T, addr string, committed bool) *counts {
	t.Helper()
	c := newCounts()
	readTopic(ctx, t, addr, outputTopic, committed, func(r *kgo.Record) {
		if err := c.add(r); err != nil {
			t.Fatal(err)
		}
	})
	return c
}

// countRecords counts the records of topic, read_committed or not.
func countRecords(ctx context.Context, t *testing.T, addr, topic string, committed bool) int {
	t.Helper()
	n := 0
	readTopic(ctx, t, addr, topic, committed, func(*kgo.Record) { n++ })
	return n
}

// readTopic reads topic to its end, read_committed or not, handing each data
// record to fn. Every transaction must be ended: the end read_committed is the
// last stable offset, and reaching the high watermark proves that none is left
// open. opts are extra client options (TLS, SASL: conn.opts); a fetch error
// other than a poll's time limit fails the test.
func readTopic(ctx context.Context, t *testing.T, addr, topic string, committed bool, fn func(*kgo.Record), opts ...kgo.Opt) {
	t.Helper()
	adm := kadm.NewClient(client(t, addr, opts...))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	copts := append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond), kgo.KeepControlRecords()}, opts...)
	if committed {
		copts = append(copts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := client(t, addr, copts...)
	// A stall, not the whole read, is bounded: a chaos run's output is millions
	// of records.
	progress := time.Now()
	for len(remaining) > 0 {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil || time.Since(progress) > 20*time.Second {
			t.Fatalf("read %s to its end (committed %v): no progress for %v (%v); partitions left: %v (a transaction left open?)",
				topic, committed, time.Since(progress).Round(time.Second), ctx.Err(), remaining)
		}
		fetches.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Fatalf("read %s partition %d: %v", topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			end, ok := remaining[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			progress = time.Now()
			if !r.Attrs.IsControl() {
				fn(r)
			}
			if r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
}

// checkPrefix requires each user's committed updates to be 1, 2, …, k: none
// repeated or skipped, whatever k is.
func checkPrefix(t *testing.T, c *counts) {
	t.Helper()
	for user, u := range c.updates {
		for i, v := range u {
			if v != int64(i+1) {
				t.Errorf("%s: committed update %d carries count %d, want %d", user, i+1, v, i+1)
				break
			}
		}
	}
}

// checkExactlyOnce requires the committed output to hold exactly one update per real
// click, each user's counts rising by one, with no transaction left open.
func checkExactlyOnce(ctx context.Context, t *testing.T, addr string, clicks []inClick) *counts {
	t.Helper()
	want := expectedCounts(clicks)
	got := readOutput(ctx, t, addr, true)
	if d := diffCounts(got.latest, want); d != "" {
		t.Errorf("final counts (read_committed): %s", d)
	}
	if n := realClicks(clicks); got.records != n {
		t.Errorf("%d committed output records, want %d (one per real click)", got.records, n)
	}
	checkUpdates(t, got, want)
	return got
}

// waitCounts waits until the committed output reaches every user's count.
func waitCounts(ctx context.Context, t *testing.T, out *tail, clicks []inClick) {
	t.Helper()
	want := expectedCounts(clicks)
	if err := out.until(ctx, "every user's count is reached", func(c *counts) bool {
		for u, n := range want {
			if c.latest[u] < n {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
	}
}

// settleExactlyOnce ends an exactly-once run of the replicas procs: it waits
// until the committed output (read by out) reaches every user's count and the
// group has committed all input, stops every replica with SIGTERM, and checks
// that no transaction of the application is left open (checkNoOpenTxn) and the
// committed output holds exactly one update per real click (checkExactlyOnce).
func settleExactlyOnce(ctx context.Context, t *testing.T, addr string, adm *kadm.Client, out *tail, procs []*proc, clicks []inClick) *counts {
	t.Helper()
	waitCounts(ctx, t, out, clicks)
	waitConsumedAll(ctx, t, adm)
	for _, p := range procs {
		stopClean(ctx, t, p)
	}
	checkNoOpenTxn(ctx, t, adm)
	return checkExactlyOnce(ctx, t, addr, clicks)
}

// TestExactlyOnceSIGKILL kills a single replica mid-stream with SIGKILL and
// restarts it: the committed output has every update exactly once.
func TestExactlyOnceSIGKILL(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	stateDir := t.TempDir()

	const total, chunk = 8000, 250
	clicks := makeClicks(0, total)
	app := startApp(t, "app-1", addr, stateDir, eosFlag...)
	out := committedTail(t, addr)

	var produced atomic.Int64
	killed := make(chan struct{})
	resume := make(chan struct{})
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: chunk, pauses: map[int]<-chan struct{}{total / 2: resume, total * 3 / 4: killed}})
	if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 0 }); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := poll(ctx, "the producer resumes", func() (bool, error) { return produced.Load() > total/2+chunk, nil }); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-app.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(killed)
	if code, err := app.wait(ctx); err != nil || code != -1 {
		t.Fatalf("after SIGKILL: status %d, %v", code, err)
	}
	t.Logf("killed with %d of %d clicks produced, %d committed output records", produced.Load(), total, out.c.records)

	app2 := startApp(t, "app-2", addr, stateDir, eosFlag...)
	if err := <-prodDone; err != nil {
		t.Fatalf("produce: %v", err)
	}
	waitCounts(ctx, t, out, clicks)
	if err := waitCommitted(ctx, adm, app2, 20*time.Second); err != nil {
		t.Error(err)
	}
	stopClean(ctx, t, app2)
	checkExactlyOnce(ctx, t, addr, clicks)
	if strings.Contains(app2.out.String(), `state_from="local state"`) {
		t.Errorf("under exactly-once a task restarted from local state after SIGKILL:\n%s", grepLines(app2.out.String(), "task started"))
	}
}

// TestExactlyOnceThreeReplicasKill runs three replicas and SIGKILLs one
// mid-stream, then restarts it: its tasks move to the others and back, and the
// committed output has every update exactly once.
func TestExactlyOnceThreeReplicasKill(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, append([]string{"--checkpoint-interval", "2s"}, eosFlag...)...)
	c.startAll()
	alive := []int{0, 1, 2}
	c.everyTaskRunning(ctx, alive)

	const total = 8000
	clicks := makeClicks(0, total)
	out := committedTail(t, addr)
	var produced atomic.Int64
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: 100})
	if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 500 }); err != nil {
		t.Fatal(err)
	}
	victim := 1
	if l := c.leader(ctx, alive); l == victim {
		victim = 2
	}
	c.kill(victim)
	t.Logf("killed r%d with %d of %d clicks produced", victim, produced.Load(), total)
	if err := out.until(ctx, "output grows after the kill", func(cs *counts) bool { return cs.records > 1500 }); err != nil {
		t.Fatal(err)
	}
	c.start(victim)
	if err := <-prodDone; err != nil {
		t.Fatalf("produce: %v", err)
	}
	settleExactlyOnce(ctx, t, addr, adm, out, c.procs, clicks)
}

// TestExactlyOnceAbortedCommit fails one transactional commit (a test hook,
// just before EndTxn): the transaction is aborted, never visible to
// read_committed, and the tasks recover to exact results.
func TestExactlyOnceAbortedCommit(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	t.Setenv("GOFKA_TEST_ABORT_COMMIT", "3")
	clicks := makeClicks(0, 4000)
	app := startApp(t, "app", addr, t.TempDir(), eosFlag...)
	failOneCommit(ctx, t, addr, cl, app, clicks)
	// The aborted transaction's records are in the logs, invisible to read_committed.
	inLog, committed := 0, 0
	for _, topic := range []string{outputTopic, repartitionTopic} {
		inLog += countRecords(ctx, t, addr, topic, false)
		committed += countRecords(ctx, t, addr, topic, true)
	}
	t.Logf("%d output and repartition records in the logs, %d of them committed", inLog, committed)
	if inLog <= committed {
		t.Errorf("read_uncommitted sees %d records, read_committed %d: the aborted transaction wrote nothing?", inLog, committed)
	}
}

// TestExactlyOnceEndTxnTimeout makes one EndTxn time out (a test hook): the
// tasks are dropped, their producers initialized again with a new epoch (which
// aborts the transaction left open), and the results are exact.
func TestExactlyOnceEndTxnTimeout(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	t.Setenv("GOFKA_TEST_ENDTXN_TIMEOUT", "3")
	clicks := makeClicks(0, 4000)
	app := startApp(t, "app", addr, t.TempDir(), eosFlag...)
	failOneCommit(ctx, t, addr, cl, app, clicks)
}

// failOneCommit feeds clicks to app, whose commit is made to fail once by a
// test hook, and requires exact results after it.
func failOneCommit(ctx context.Context, t *testing.T, addr string, cl *kgo.Client, app *proc, clicks []inClick) {
	t.Helper()
	out := committedTail(t, addr)
	produce(ctx, t, cl, clicks[:2000])
	if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 0 }); err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, cl, clicks[2000:])
	waitCounts(ctx, t, out, clicks)
	if err := app.waitLog(ctx, "transaction aborted"); err != nil {
		t.Fatalf("the injected fault was not met: %v", err)
	}
	stopClean(ctx, t, app)
	checkExactlyOnce(ctx, t, addr, clicks)
}

// TestExactlyOncePanic: a panic while processing (a test hook panics in the
// middle of a task's output, as a user function would) ends the run, and
// nothing of the transaction it was in becomes visible: after a restart the
// committed output has every update exactly once.
func TestExactlyOncePanic(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	stateDir := t.TempDir()
	clicks := makeClicks(0, 4000)
	out := committedTail(t, addr)
	// 2,000 clicks make 3,600 emits (1,800 real clicks to the repartition
	// topic, then 1,800 counts): the panic comes in the second half.
	t.Setenv("GOFKA_TEST_PANIC_EMIT", "5000")
	app := startApp(t, "app-1", addr, stateDir, eosFlag...)
	produce(ctx, t, cl, clicks[:2000])
	if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 0 }); err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, cl, clicks[2000:])
	code, err := app.wait(ctx)
	if err != nil || code == 0 {
		t.Fatalf("after the panic: status %d, %v; want a failure", code, err)
	}
	if !strings.Contains(app.out.String(), "GOFKA_TEST_PANIC_EMIT") {
		t.Fatalf("the run did not end on the injected panic:\n%s", lastLines(app.out.String(), 20))
	}
	before := readOutput(ctx, t, addr, true)
	checkPrefix(t, before)
	all := countRecords(ctx, t, addr, outputTopic, false) + countRecords(ctx, t, addr, repartitionTopic, false)
	committed := before.records + countRecords(ctx, t, addr, repartitionTopic, true)
	t.Logf("after the panic: %d committed output records; output and repartition: %d in the logs, %d committed", before.records, all, committed)

	t.Setenv("GOFKA_TEST_PANIC_EMIT", "")
	app2 := startApp(t, "app-2", addr, stateDir, eosFlag...)
	waitCounts(ctx, t, out, clicks)
	stopClean(ctx, t, app2)
	checkExactlyOnce(ctx, t, addr, clicks)
}

// TestExactlyOnceFaults injects a fault by a test hook (runtime/engine/faults.go)
// in one phase of exactly-once processing, once, and requires exact results
// after the recovery and a restart. The processing, offset-commit and EndTxn
// phases have tests of their own above.
//
//   - flush, produce: the transaction is aborted, the tasks dropped and
//     restored from committed state;
//   - snapshot upload, manifest write: the replica reports the failed part and
//     the coordinator aborts the checkpoint at once (no restart); a later
//     checkpoint completes, and a restart after a SIGKILL restores from it;
//   - restore: at the restart (after a SIGKILL: a clean stop would leave
//     local state to start from) the first snapshot download fails; the task
//     falls back to an older snapshot or the changelog.
func TestExactlyOnceFaults(t *testing.T) {
	for _, tc := range []struct {
		phase, env, at string
		log            string // the log line that shows the fault was met
		atRestart      bool   // the fault is set for the restart, not the first run
		checkpoint     bool   // a fault in a checkpoint: restore from a later one
	}{
		{"flush", "GOFKA_TEST_FAULT_FLUSH", "3", "transaction aborted", false, false},
		{"produce", "GOFKA_TEST_FAULT_PRODUCE", "3000", "transaction aborted", false, false},
		{"snapshot upload", "GOFKA_TEST_FAULT_UPLOAD", "1", `msg="checkpoint aborted"`, false, true},
		{"manifest write", "GOFKA_TEST_FAULT_MANIFEST", "1", `msg="checkpoint aborted"`, false, true},
		{"restore", "GOFKA_TEST_FAULT_RESTORE", "1", "snapshot unusable", true, false},
	} {
		t.Run(strings.ReplaceAll(tc.phase, " ", "_"), func(t *testing.T) {
			ctx := testContext(t, 60*time.Second)
			begin := time.Now()
			step := func(what string) { t.Logf("%5.1fs %s", time.Since(begin).Seconds(), what) }
			addr, cl, _ := clickCountBroker(ctx, t)
			c := newCluster(t, addr, 1, append([]string{"--checkpoint-interval", "1s", "--voters", "1"}, eosFlag...)...)
			clicks := makeClicks(0, 4000)
			out := committedTail(t, addr)
			checkpoints := func(what string, more uint64) {
				t.Helper()
				st, err := c.statusOf(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				n := lastComplete(st)
				st = c.waitStatus(ctx, 0, what, func(st replicaStatus) bool { return lastComplete(st) >= n+more })
				step(fmt.Sprintf("%s: checkpoint %d complete", what, lastComplete(st)))
			}

			if !tc.atRestart {
				t.Setenv(tc.env, tc.at)
			}
			p := c.start(0)
			produce(ctx, t, cl, clicks[:2000])
			if err := out.until(ctx, "committed output appeared", func(c *counts) bool { return c.records > 0 }); err != nil {
				t.Fatal(err)
			}
			produce(ctx, t, cl, clicks[2000:3000])
			waitCounts(ctx, t, out, clicks[:3000])
			if tc.atRestart {
				checkpoints("snapshots of the processed state", 2)
			} else {
				if err := p.waitLog(ctx, tc.log); err != nil {
					t.Fatalf("the injected fault was not met: %v", err)
				}
				step("fault met")
			}
			if !tc.checkpoint { // a checkpoint's fault is recovered from in the same process
				if tc.atRestart {
					c.kill(0) // a crash: after a clean stop the restart would use the local state (marker.go)
				} else {
					stopClean(ctx, t, p)
				}
				step("first run stopped")
				if tc.atRestart {
					t.Setenv(tc.env, tc.at)
				} else {
					t.Setenv(tc.env, "")
				}
				p = c.start(0)
			}
			if tc.atRestart {
				if err := p.waitLog(ctx, tc.log); err != nil {
					t.Fatalf("the injected fault was not met: %v", err)
				}
				step("restore fault met")
			}
			produce(ctx, t, cl, clicks[3000:])
			waitCounts(ctx, t, out, clicks)
			step("output complete")
			if tc.checkpoint {
				checkpoints("a checkpoint after the failed one", 1)
				c.kill(0) // a crash, so that the restart restores from a snapshot
				p = c.start(0)
				if err := p.waitLog(ctx, `state_from="snapshot of checkpoint`); err != nil {
					t.Errorf("no task restored from a snapshot: %v\n%s", err, grepLines(p.out.String(), "task started"))
				}
				c.everyTaskRunning(ctx, []int{0})
				step("restarted again, from a snapshot")
			}
			stopClean(ctx, t, p)
			checkExactlyOnce(ctx, t, addr, clicks)
			step("checked")
		})
	}
}
