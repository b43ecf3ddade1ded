package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testContext bounds a test's time.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// stopClean sends SIGTERM and requires exit status 0.
func stopClean(ctx context.Context, t *testing.T, p *proc) {
	t.Helper()
	// A SIGTERM that arrives while the Go runtime is still starting, before the
	// app has installed its handler, kills it outright (as for any program): stop
	// it only once it has started consuming.
	if err := p.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatalf("stop %s: %v", p.name, err)
	}
	code, err := p.stop(ctx)
	if err != nil {
		t.Fatalf("stop %s: %v", p.name, err)
	}
	if code != 0 {
		t.Fatalf("%s exited with status %d after SIGTERM, want 0", p.name, code)
	}
}

// checkUpdates requires every user's updates in the output to be exactly 1, 2, …, n:
// one update per real click, none repeated or lost.
func checkUpdates(t *testing.T, c *counts, want map[string]int64) {
	t.Helper()
	for _, user := range slices.Sorted(maps.Keys(want)) {
		u := c.updates[user]
		if int64(len(u)) != want[user] {
			t.Errorf("%s: %d updates in the output, want %d (one per real click)", user, len(u), want[user])
			continue
		}
		for i, v := range u {
			if v != int64(i+1) {
				t.Errorf("%s: update %d carries count %d, want %d", user, i+1, v, i+1)
				break
			}
		}
	}
}

// TestClickCountExactlyOnceWithoutCrash: with no crash, at-least-once processing
// writes exactly one update per real click, and SIGTERM stops cleanly.
func TestClickCountExactlyOnceWithoutCrash(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	clicks := makeClicks(0, 5000)
	if nReal, users := realClicks(clicks), len(expectedCounts(clicks)); nReal != 4500 || users != 97 {
		t.Fatalf("test data: %d real clicks over %d users, want 4500 over 97", nReal, users)
	}
	countExactlyOnce(ctx, t, plaintext(addr), cl, adm, clicks)
}

// countExactlyOnce runs one replica of the application connected as c, writes
// clicks with cl (a client connected as c), and requires exactly one update per
// real click, user by user and count by count (1, 2, …, n), the group to have
// committed all input, and a clean stop on SIGTERM. adm may use any listener.
// It returns the application's process, stopped.
func countExactlyOnce(ctx context.Context, t *testing.T, c conn, cl *kgo.Client, adm *kadm.Client, clicks []inClick) *proc {
	t.Helper()
	app := startApp(t, "app", c.addr, t.TempDir(), c.flags...)
	want := expectedCounts(clicks)
	nReal := realClicks(clicks)
	produce(ctx, t, cl, clicks)

	out := newTail(t, c.addr, outputTopic, c.opts...)
	done := equalCounts(want)
	if err := out.until(ctx, "every user's count is reached", func(cs *counts) bool { return done(cs) || app.exited() }); err != nil {
		t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
	}
	if !done(out.c) {
		t.Fatalf("%s exited (%v) before every click was counted: %s", app.name, app.err, diffCounts(out.c.latest, want))
	}
	// With no more input, the application must still commit what it processed
	// within a few commit intervals, not only when more records arrive.
	if err := waitCommitted(ctx, adm, app, 10*time.Second); err != nil {
		t.Error(err)
	}
	stopClean(ctx, t, app)

	// Everything the application wrote, read again to the end after it stopped.
	got := readCounts(ctx, t, c.addr, c.opts...)
	if d := diffCounts(got.latest, want); d != "" {
		t.Errorf("latest counts: %s", d)
	}
	if got.records != nReal {
		t.Errorf("%d output records, want %d (one per real click: no duplicates without a crash)", got.records, nReal)
	}
	checkUpdates(t, got, want)
	if ok, lag, err := consumedAll(ctx, adm); err != nil || !ok {
		t.Errorf("after a clean stop the group must have committed every input: %v%s", err, lag)
	}
	// Each click is processed once from the input, each real one once more from
	// the repartition topic.
	wantLine := fmt.Sprintf("msg=stopped app=click-count replica=0 processed=%d skipped=0 dead_lettered=0", len(clicks)+nReal)
	if !strings.Contains(app.out.String(), wantLine) {
		t.Errorf("no final log line %q", wantLine)
	}
	return app
}

// waitCommitted waits (at most limit) until the group has committed the end of
// every input and repartition partition while app keeps running.
func waitCommitted(ctx context.Context, adm *kadm.Client, app *proc, limit time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := poll(wctx, "the group commits all input", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("%s exited: %v", app.name, app.err)
		}
		ok, _, err := consumedAll(wctx, adm)
		if wctx.Err() != nil {
			return false, nil // poll reports the time-out
		}
		return ok, err
	})
	if err != nil {
		_, lag, _ := consumedAll(ctx, adm)
		return fmt.Errorf("the group has not committed all input within %v while %s runs (commit interval 500ms): %v:%s", limit, app.name, err, lag)
	}
	return nil
}

// TestSIGKILLMidStreamLosesNothing kills the application with SIGKILL while input
// is still arriving, restarts it on the same state directory and checks that no
// click is lost (at least once) and that the store matches the output.
func TestSIGKILLMidStreamLosesNothing(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	stateDir := t.TempDir()

	const total, chunk = 20000, 250
	clicks := makeClicks(0, total)
	want := expectedCounts(clicks)

	app := startApp(t, "app-1", addr, stateDir)
	out := newTail(t, addr, outputTopic)

	// The producer writes a chunk every 25ms (about 10,000 clicks a second). It
	// pauses at half the input until the application has committed, then goes
	// on, so it is still writing when the application is killed and after; it
	// waits for the kill at three quarters of the input should the application
	// be slow (a loaded machine).
	var produced atomic.Int64
	killed := make(chan struct{})
	resume := make(chan struct{})
	prodDone := streamClicks(ctx, cl, clicks, &produced, clickStream{chunk: chunk, pauses: map[int]<-chan struct{}{total / 2: resume, total * 3 / 4: killed}})

	// Kill mid-stream: once output has appeared, the application has committed
	// at least once (so that it restarts from committed offsets and recorded
	// changelog offsets, not from scratch), and some input written is not
	// committed yet.
	var commitErr error
	err := out.until(ctx, "output appeared and input offsets are committed", func(c *counts) bool {
		if c.records == 0 {
			return false
		}
		n, err := committedSum(ctx, adm, inputTopic)
		commitErr = err
		return err != nil || n > 0
	})
	if err == nil {
		err = commitErr
	}
	if err != nil {
		t.Fatal(err)
	}
	// Kill a chunk or two after the producer resumes: well inside the 500ms
	// commit interval, so that input written is not committed yet.
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
	atKill := produced.Load()
	committedAtKill, err := committedSum(ctx, adm, inputTopic)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d clicks produced, %d input offsets committed, %d output records", atKill, total, committedAtKill, out.c.records)
	if atKill >= total {
		t.Fatalf("the application was killed only after all %d clicks were produced: not mid-stream", total)
	}

	app2 := startApp(t, "app-2", addr, stateDir)
	if err := app2.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(app2.out.String(), `state_from="local state"`); n != partitions {
		t.Errorf("%d of %d store partitions restarted from their local state:\n%s", n, partitions, grepLines(app2.out.String(), "task started"))
	}
	if err := <-prodDone; err != nil {
		t.Fatalf("produce: %v", err)
	}
	// Done: every input and repartition record consumed and committed. If the
	// application does not commit while idle, SIGTERM's final commit still
	// lets the checks below run.
	if err := waitCommitted(ctx, adm, app2, 20*time.Second); err != nil {
		t.Error(err)
	}
	stopClean(ctx, t, app2)

	got := readCounts(ctx, t, addr)
	for _, user := range slices.Sorted(maps.Keys(want)) {
		if got.latest[user] < want[user] {
			t.Errorf("%s: latest count %d, want at least %d: clicks were lost", user, got.latest[user], want[user])
		}
	}
	if len(got.latest) != len(want) {
		t.Errorf("output has %d users, want %d", len(got.latest), len(want))
	}
	t.Logf("%d output records for %d real clicks: %d duplicates from reprocessing after the kill", got.records, realClicks(clicks), got.records-realClicks(clicks))
	if ok, lag, err := consumedAll(ctx, adm); err != nil || !ok {
		t.Errorf("not all input committed: %v%s", err, lag)
	}

	// The store holds, for every user, the last count the application wrote.
	store := readStore(t, stateDir)
	if d := diffCounts(store, got.latest); d != "" {
		t.Errorf("store vs last output per user: %s", d)
	}
	changelog, _ := compactedChangelog(ctx, t, addr)
	if d := diffCounts(changelog, store); d != "" {
		t.Errorf("compacted changelog vs store: %s", d)
	}
}

func configValue(c kadm.ResourceConfig, key string) string {
	for _, e := range c.Configs {
		if e.Key == key {
			return e.MaybeValue()
		}
	}
	return ""
}

// TestRestoreFromChangelog deletes the state directory of a stopped application
// and checks that the restarted application rebuilt its store from the changelog.
func TestRestoreFromChangelog(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	stateDir := t.TempDir()

	clicks := makeClicks(0, 3000)
	want := expectedCounts(clicks)
	app := startApp(t, "app-1", addr, stateDir)
	produce(ctx, t, cl, clicks)
	out := newTail(t, addr, outputTopic)
	if err := out.until(ctx, "every user's count is reached", equalCounts(want)); err != nil {
		t.Fatalf("%v: %s", err, diffCounts(out.c.latest, want))
	}
	stopClean(ctx, t, app)
	before := readCounts(ctx, t, addr)
	if d := diffCounts(before.latest, want); d != "" {
		t.Fatalf("output before the restart: %s", d)
	}
	if d := diffCounts(readStore(t, stateDir), want); d != "" {
		t.Fatalf("store before the restart: %s", d)
	}
	// The changelog is compacted (Kafka keeps the latest value per key), so it
	// stays as small as the store.
	configs, err := adm.DescribeTopicConfigs(ctx, changelogTopic)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := configs.On(changelogTopic, nil); err != nil {
		t.Errorf("describe %s: %v", changelogTopic, err)
	} else if policy := configValue(c, "cleanup.policy"); policy != "compact" {
		t.Errorf("%s has cleanup.policy %q, want compact", changelogTopic, policy)
	}
	changelog, changelogRecords := compactedChangelog(ctx, t, addr)
	if d := diffCounts(changelog, want); d != "" {
		t.Fatalf("compacted changelog before the restart: %s", d)
	}

	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	// The whole state directory is gone, and with it the default snapshot
	// directory and the coordinator's log: only the changelog is left.
	app2 := startApp(t, "app-2", addr, stateDir)
	if err := app2.waitLog(ctx, "msg=consuming"); err != nil {
		t.Fatal(err)
	}
	log := app2.out.String()
	m := regexp.MustCompile(`msg="task started" .*state_from="full changelog replay" changelog_records_replayed=(\d+)`).FindAllStringSubmatch(log, -1)
	if len(m) != partitions {
		t.Fatalf("%d store partitions restored by a full changelog replay, want %d:\n%s", len(m), partitions, grepLines(log, "task started"))
	}
	replayed := 0
	for _, sm := range m {
		n, _ := strconv.Atoi(sm[1])
		replayed += n
	}
	if replayed != changelogRecords {
		t.Errorf("restored %d records, want the changelog's %d", replayed, changelogRecords)
	}

	// One more click for a known user: the count must continue from the
	// restored one, not start again from 1.
	user := "user-042"
	if want[user] < 10 {
		t.Fatalf("test data: %s has only %d clicks", user, want[user])
	}
	more := []inClick{{id: "click-extra", c: click{User: user, URL: "/extra"}}}
	produce(ctx, t, cl, more)
	if err := out.until(ctx, "the extra click is counted", func(c *counts) bool { return c.records > before.records }); err != nil {
		t.Fatal(err)
	}
	want[user]++
	if got := out.c.latest[user]; got != want[user] {
		t.Errorf("after the restore, one more click for %s gives count %d, want %d (previous %d + 1)", user, got, want[user], want[user]-1)
	}
	stopClean(ctx, t, app2)

	after := readCounts(ctx, t, addr)
	if after.records != before.records+1 {
		t.Errorf("the restarted application wrote %d output records, want exactly 1", after.records-before.records)
	}
	if d := diffCounts(after.latest, want); d != "" {
		t.Errorf("output after the restart: %s", d)
	}
	if d := diffCounts(readStore(t, stateDir), want); d != "" {
		t.Errorf("restored store: %s", d)
	}
	changelog, _ = compactedChangelog(ctx, t, addr)
	if d := diffCounts(changelog, want); d != "" {
		t.Errorf("compacted changelog after the restart: %s", d)
	}
}

// TestSIGTERMWhileBusy stops the application with SIGTERM again and again while
// it is processing, committing after every poll (--commit-interval 1ms) so that
// the signal often arrives during a commit. Every stop must exit 0, and since a
// graceful stop commits what was processed, the restarts together count every
// click exactly once.
func TestSIGTERMWhileBusy(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	addr, cl, adm := clickCountBroker(ctx, t)
	stateDir := t.TempDir()
	out := newTail(t, addr, outputTopic)

	const rounds, perRound = 8, 10000
	for round := range rounds {
		produce(ctx, t, cl, makeClicks(round*perRound, perRound))
		from := endOffsetSum(ctx, t, adm, outputTopic)
		app := startApp(t, fmt.Sprintf("app-%d", round), addr, stateDir, "--commit-interval", "1ms")
		// Stop once the application is busy: its output is growing.
		if err := out.until(ctx, "output grows", func(c *counts) bool { return c.records >= from+500 }); err != nil {
			t.Fatal(err)
		}
		code, err := app.stop(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Errorf("round %d: SIGTERM while processing: exit status %d, want 0: %q", round, code, lastLines(strings.TrimSpace(app.out.String()), 1))
		}
	}

	clicks := makeClicks(0, rounds*perRound)
	want := expectedCounts(clicks)
	app := startApp(t, "app-last", addr, stateDir)
	if err := out.until(ctx, "every user's count is reached", func(c *counts) bool {
		for user, n := range want {
			if c.latest[user] < n {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if err := waitCommitted(ctx, adm, app, 10*time.Second); err != nil {
		t.Error(err)
	}
	stopClean(ctx, t, app)
	got := readCounts(ctx, t, addr)
	if d := diffCounts(got.latest, want); d != "" {
		t.Errorf("after %d graceful stops: %s", rounds, d)
	}
	if n := realClicks(clicks); got.records != n {
		t.Errorf("%d output records, want %d: graceful stops must not cause reprocessing", got.records, n)
	}
}
