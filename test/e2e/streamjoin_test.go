package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// examples/adclicks through a broker: impressions (keyed by impression id)
// left-joined with clicks (keyed by user, re-keyed by the impression they
// click, so read through a repartition topic) within ten minutes after the
// impression, a minute of grace. The expected attributions come from a brute
// force over the input written here, which knows nothing of windows stores:
// for each impression, one record per click of it at most ten minutes later,
// or one unclicked record when there is none.

const (
	adImpressions  = "ad-impressions"
	adClicks       = "ad-clicks"
	adAttributions = "ad-attributions"
	adPartitions   = 3
)

// adBase is the event time of the first impression: inside a broker's default
// retention (7 days).
var adBase = time.Now().Add(-24 * time.Hour).Truncate(time.Hour).UnixMilli()

type adEvent struct {
	click    bool
	id       string // impression id (for a click: the impression it clicks)
	user, ad string
	ts       int64
}

type adAttribution struct {
	Ad      string `json:"ad"`
	User    string `json:"user"`
	Clicked bool   `json:"clicked"`
}

// adInput is n impressions, 100 ms apart, over 20 ads and 50 users; each is
// clicked 0, 1 or 2 times, from a minute before it (which does not count: a
// click must follow its impression) to eight minutes after. A task processes
// what it has fetched of each input, so one side (the clicks come through a
// repartition topic) may run ahead of the other by as much as the whole input:
// the input spans less than the join's ten minutes, so that no record is ever
// late (a late impression with no click yet would be written unclicked at once).
func adInput(n int) []adEvent {
	rng := rand.New(rand.NewPCG(15, 3))
	var evs []adEvent
	for i := range n {
		imp := adEvent{id: fmt.Sprintf("imp-%04d", i), user: fmt.Sprintf("u%02d", rng.IntN(50)), ad: fmt.Sprintf("ad%02d", rng.IntN(20)), ts: adBase + 60_000 + int64(i)*100}
		evs = append(evs, imp)
		for range rng.IntN(3) {
			evs = append(evs, adEvent{click: true, id: imp.id, user: imp.user, ts: imp.ts - 60_000 + rng.Int64N(9*60_000)})
		}
	}
	slices.SortStableFunc(evs, func(a, b adEvent) int { return int(a.ts - b.ts) })
	return evs
}

// bruteForceAttributions is what the left join must write, as "impression|json" → count.
func bruteForceAttributions(evs []adEvent) map[string]int {
	want := map[string]int{}
	for _, imp := range evs {
		if imp.click {
			continue
		}
		clicked := 0
		for _, c := range evs {
			if c.click && c.id == imp.id && c.ts >= imp.ts && c.ts <= imp.ts+10*60_000 {
				clicked++
			}
		}
		v, _ := json.Marshal(adAttribution{Ad: imp.ad, User: imp.user, Clicked: clicked > 0})
		want[imp.id+"|"+string(v)] += max(clicked, 1)
	}
	return want
}

func adRecord(e adEvent) *kgo.Record {
	if e.click {
		v, _ := json.Marshal(struct {
			Impression string `json:"impression"`
		}{e.id})
		return &kgo.Record{Topic: adClicks, Key: []byte(e.user), Value: v, Timestamp: time.UnixMilli(e.ts)}
	}
	v, _ := json.Marshal(struct {
		Ad   string `json:"ad"`
		User string `json:"user"`
	}{e.ad, e.user})
	return &kgo.Record{Topic: adImpressions, Key: []byte(e.id), Value: v, Timestamp: time.UnixMilli(e.ts)}
}

// adTicks are one impression per partition two hours after the input: stream
// time then passes every input impression's window, so the unclicked ones are
// written. Their own attributions are not expected (their windows stay open).
func adTicks() []*kgo.Record {
	var out []*kgo.Record
	for p := range int32(adPartitions) {
		out = append(out, adRecord(adEvent{id: keyOnPartition(p, adPartitions), user: "tick", ad: "tick", ts: adBase + 2*3600_000}))
	}
	return out
}

// readAttributions counts the attributions written, by "impression|json".
func readAttributions(ctx context.Context, t *testing.T, addr string, committed bool) map[string]int {
	t.Helper()
	got := map[string]int{}
	readTopic(ctx, t, addr, adAttributions, committed, func(r *kgo.Record) {
		if r.Attrs.IsControl() {
			return
		}
		got[string(r.Key)+"|"+string(r.Value)]++
	})
	return got
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// matched is the part of want made of clicked attributions, which the join
// writes as soon as the click is processed.
func matched(want map[string]int) int {
	n := 0
	for k, c := range want {
		if strings.Contains(k, `"clicked":true`) {
			n += c
		}
	}
	return n
}

// TestAdClicksJoin runs examples/adclicks on a broker of its own (or the
// shared real one) and checks its attributions against the brute force:
// exactly, as each record is processed once.
func TestAdClicksJoin(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	_, addr := startBroker(ctx, t)
	cl := client(t, addr)
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopics(ctx, adPartitions, 1, nil, adImpressions, adClicks, adAttributions); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}
	bin := buildExample(ctx, t, "adclicks")
	evs := adInput(400)
	want := bruteForceAttributions(evs)
	app := startBinary(t, bin, "adclicks", "run", "--brokers", addr, "--state-dir", t.TempDir(), "--commit-interval", "200ms")
	var recs []*kgo.Record
	for _, e := range evs {
		recs = append(recs, adRecord(e))
	}
	produceSync(ctx, t, cl, recs...)
	runAdClicksToEnd(ctx, t, addr, cl, app, want, false)
	stopClean(ctx, t, app)
	got := readAttributions(ctx, t, addr, false)
	if diff := attributionDiff(got, want, true); diff != "" {
		t.Errorf("attributions differ from the brute force:\n%s", diff)
	}
	t.Logf("%d impressions, %d clicks: %d attributions, %d clicked", len(evs)-countClicks(evs), countClicks(evs), total(want), matched(want))
}

func countClicks(evs []adEvent) int {
	n := 0
	for _, e := range evs {
		if e.click {
			n++
		}
	}
	return n
}

// runAdClicksToEnd waits until every clicked attribution is written (so every
// click has been processed), then sends the ticks and waits for the unclicked
// ones.
func runAdClicksToEnd(ctx context.Context, t *testing.T, addr string, cl *kgo.Client, app *proc, want map[string]int, committed bool) {
	t.Helper()
	clickedOut := func() int {
		n := 0
		for k, c := range readAttributions(ctx, t, addr, committed) {
			if strings.Contains(k, `"clicked":true`) {
				n += c
			}
		}
		return n
	}
	if err := poll(ctx, "every clicked attribution", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("%s exited: %v", app.name, app.err)
		}
		return clickedOut() >= matched(want), nil
	}); err != nil {
		t.Fatal(err)
	}
	produceSync(ctx, t, cl, adTicks()...)
	if err := poll(ctx, "every attribution", func() (bool, error) {
		if app.exited() {
			return false, fmt.Errorf("%s exited: %v", app.name, app.err)
		}
		got := readAttributions(ctx, t, addr, committed)
		for k := range want {
			if got[k] == 0 {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// attributionDiff lists what got lacks or has too much of; with exact, a
// record written more often than want says is a difference too.
func attributionDiff(got, want map[string]int, exact bool) string {
	var lines []string
	for k, w := range want {
		if g := got[k]; g < w || (exact && g != w) {
			lines = append(lines, fmt.Sprintf("  %s: written %d times, want %d", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: written %d times, want none", k, g))
		}
	}
	slices.Sort(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("  ... and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

// TestAdClicksJoinSurvivesSIGKILL SIGKILLs examples/adclicks halfway through
// its input, with records of both sides buffered in its join stores and
// unclicked impressions waiting in its outer store, and restarts it on an
// empty state directory (the stores come back from their changelogs). No
// attribution may be lost: under at-least-once each one is written at least
// once (a record processed but not committed before the kill is processed
// again); under exactly-once exactly once (read_committed).
func TestAdClicksJoinSurvivesSIGKILL(t *testing.T) {
	for _, guarantee := range []string{"at-least-once", "exactly-once"} {
		t.Run(guarantee, func(t *testing.T) {
			ctx := testContext(t, 2*time.Minute)
			_, addr := startBroker(ctx, t)
			cl := client(t, addr)
			adm := kadm.NewClient(cl)
			if resp, err := adm.CreateTopics(ctx, adPartitions, 1, nil, adImpressions, adClicks, adAttributions); err != nil || resp.Error() != nil {
				t.Fatalf("create topics: %v %v", err, resp.Error())
			}
			bin := buildExample(ctx, t, "adclicks")
			evs := adInput(400)
			want := bruteForceAttributions(evs)
			committed := guarantee == "exactly-once"
			run := func(name string) *proc {
				return startBinary(t, bin, name, "run", "--brokers", addr, "--state-dir", t.TempDir(),
					"--commit-interval", "300ms", "--guarantee", guarantee)
			}
			app := run("adclicks")
			half := len(evs) / 2
			var first, second []*kgo.Record
			for i, e := range evs {
				if i < half {
					first = append(first, adRecord(e))
				} else {
					second = append(second, adRecord(e))
				}
			}
			produceSync(ctx, t, cl, first...)
			if err := poll(ctx, "some attributions written", func() (bool, error) {
				return total(readAttributions(ctx, t, addr, committed)) > 0, nil
			}); err != nil {
				t.Fatal(err)
			}
			app.killGroup()
			before := total(readAttributions(ctx, t, addr, committed))
			produceSync(ctx, t, cl, second...)
			app = run("adclicks-again")
			runAdClicksToEnd(ctx, t, addr, cl, app, want, committed)
			stopClean(ctx, t, app)
			got := readAttributions(ctx, t, addr, committed)
			if diff := attributionDiff(got, want, committed); diff != "" {
				t.Errorf("attributions differ from the brute force (%s):\n%s", guarantee, diff)
			}
			t.Logf("%s: %d attributions before the kill, %d after the restart, %d expected", guarantee, before, total(got), total(want))
		})
	}
}
