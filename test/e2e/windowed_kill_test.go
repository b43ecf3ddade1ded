package e2e

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSuppressedWindowsSurviveSIGKILL runs examples/pageviews against a broker
// of its own, SIGKILLs it while windows are pending in its suppression buffer
// (half the views processed, some final counts out), restarts it on the same
// state directory and feeds the other half. Every window must then have its
// final count as a brute-force windowing of the whole input gives it: under
// exactly-once exactly one final record per window (read_committed); under
// at-least-once a final may repeat (one written but not committed before the
// kill is written again after the replay), but never with another count. The
// restart must not trust the crashed process's local state (localNeedsMarker
// in runtime/engine).
func TestSuppressedWindowsSurviveSIGKILL(t *testing.T) {
	for _, guarantee := range []string{"at-least-once", "exactly-once"} {
		t.Run(guarantee, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			bin := buildExample(ctx, t, "pageviews")
			_, addr := startBroker(ctx, t)
			adm := kadm.NewClient(client(t, addr))
			if resp, err := adm.CreateTopics(ctx, viewsPartitions, 1, nil, viewsTopic, viewsUpdates, viewsFinals, viewsLate); err != nil || resp.Error() != nil {
				t.Fatalf("create topics: %v %v", err, resp.Error())
			}
			in := pageViewsInput(3000)
			_, wantFinals, _ := bruteForceViews(in)
			stateDir := t.TempDir()
			run := func(name string) *proc {
				return startBinary(t, bin, name, "run", "--brokers", addr, "--state-dir", stateDir,
					"--commit-interval", "300ms", "--guarantee", guarantee)
			}
			cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			produceViews := func(views []pageView) {
				var recs []*kgo.Record
				for _, v := range views {
					recs = append(recs, &kgo.Record{Topic: viewsTopic, Partition: v.p, Key: []byte(v.page), Value: []byte("view"), Timestamp: time.UnixMilli(v.ts)})
				}
				if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			// The first half: windows of its first minute or so close, the rest
			// wait in the suppression buffer when the process dies.
			half := len(in) / 2
			app := run("pageviews")
			produceViews(in[:half])
			committed := guarantee == "exactly-once"
			finalsSoFar := func() int {
				n := 0
				readTopic(ctx, t, addr, viewsFinals, committed, func(*kgo.Record) { n++ })
				return n
			}
			if err := poll(ctx, "some final counts written", func() (bool, error) { return finalsSoFar() > 0, nil }); err != nil {
				t.Fatal(err)
			}
			app.killGroup()
			if _, err := app.wait(ctx); err == nil {
				t.Log("pageviews stopped by SIGKILL")
			}
			before := finalsSoFar()
			produceViews(in[half:])
			app = run("pageviews-again")
			nWant := 0
			for _, f := range wantFinals {
				nWant += len(f)
			}
			if err := poll(ctx, "every window's final count", func() (bool, error) {
				return len(finalsByWindow(ctx, t, addr, committed)) == nWant || app.exited(), nil
			}); err != nil {
				t.Fatal(err)
			}
			stopClean(ctx, t, app)
			// After a crash a window store's local state may hold expiries ahead
			// of the last commit: it must not be used, under either guarantee.
			if log := app.out.String(); strings.Contains(log, `state_from="local state`) {
				t.Errorf("after the SIGKILL a task started from local state:\n%s", grepLines(log, "task started"))
			}

			got := finalsByWindow(ctx, t, addr, committed)
			records := 0
			for window, counts := range got {
				records += len(counts)
				want := wantFinals[window]
				for _, c := range counts {
					if len(want) != 1 || c != want[0].count {
						t.Errorf("window %q: final count %d, want %v", window, c, want)
					}
				}
				if committed && len(counts) != 1 {
					t.Errorf("window %q: %d final records under exactly-once, want 1", window, len(counts))
				}
			}
			if len(got) != nWant {
				t.Errorf("%d windows have a final count, want %d", len(got), nWant)
			}
			t.Logf("%s: %d final records before the kill, %d after the restart, for %d windows", guarantee, before, records, nWant)
		})
	}
}

// finalsByWindow reads the final-count topic: the counts written per window.
func finalsByWindow(ctx context.Context, t *testing.T, addr string, committed bool) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	readTopic(ctx, t, addr, viewsFinals, committed, func(r *kgo.Record) {
		if len(r.Value) == 8 {
			out[string(r.Key)] = append(out[string(r.Key)], int64(binary.BigEndian.Uint64(r.Value)))
		}
	})
	return out
}
