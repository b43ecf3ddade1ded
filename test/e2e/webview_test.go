package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gofka/streams/internal/browsertest"
)

// screenshotEnv names where TestWebViewThreeReplicas also writes its
// screenshot (make webview-screenshot: docs/webview.png).
const screenshotEnv = "GOFKA_WEBVIEW_SCREENSHOT"

// webPage is what the test reads of the web view's DOM.
type webPage struct {
	Diagram    string            `json:"diagram"`    // the text of the svg Mermaid drew
	SVGNodes   int               `json:"svg_nodes"`  // its nodes
	Members    []string          `json:"members"`    // replica ids, as listed
	Leader     string            `json:"leader"`     // the member marked leader
	Assignment map[string]string `json:"assignment"` // task → owner, from the assignment table
	TaskRows   map[string]string `json:"task_rows"`  // task → replica, from the tasks table
	Rates      []string          `json:"rates"`      // the records/s cells
	History    int               `json:"history"`    // assignment changes listed
	Error      string            `json:"error"`      // the error banner when shown
}

const readPage = `(() => {
  const rows = (sel) => [...document.querySelectorAll(sel)];
  const svg = document.querySelector("#topology svg");
  const banner = document.getElementById("error");
  return {
    diagram: svg ? svg.textContent : "",
    svg_nodes: svg ? svg.querySelectorAll("g.node").length : 0,
    members: rows("#members tbody tr").map((tr) => tr.dataset.member),
    leader: (rows("#members tbody tr").find((tr) => tr.querySelector(".badge")) || {dataset: {}}).dataset.member || "",
    assignment: Object.fromEntries(rows("#assignment tbody tr").map((tr) => [tr.dataset.task, tr.querySelector(".owner").textContent])),
    task_rows: Object.fromEntries(rows("#tasks tbody tr[data-task]").map((tr) => [tr.dataset.task, tr.dataset.replica])),
    rates: rows("#tasks tbody td.rate").map((td) => td.textContent),
    history: rows("#history li").length,
    error: banner.hidden ? "" : banner.textContent,
  };
})()`

// pageUntil reads the page until cond holds.
func pageUntil(ctx context.Context, t *testing.T, tab context.Context, what string, cond func(webPage) bool) webPage {
	t.Helper()
	var last webPage
	err := pollEvery(ctx, 200*time.Millisecond, what, func() (bool, error) {
		p, err := chromedp.Run(tab, chromedp.Evaluate[webPage](readPage))
		if err != nil {
			return false, err
		}
		last = p
		return cond(p), nil
	})
	if err != nil {
		t.Fatalf("web view: %v\nlast read: %+v", err, last)
	}
	return last
}

// ownersByName is owners with replica indexes as the page names them.
func ownersByName(owners map[string]int) map[string]string {
	out := map[string]string{}
	for task, i := range owners {
		out[task] = fmt.Sprintf("r%d", i)
	}
	return out
}

// TestWebViewThreeReplicas opens the web view of one of three click-count
// replicas in headless chromium while clicks stream: Mermaid draws the
// topology with its topics and store, the members list shows the three and
// the leader the replicas agree on, the assignment and the tasks' rows are
// the ones the replicas' /status report, throughput shows, and after a
// SIGKILL of another replica the assignment on the page changes to the one
// the two survivors then run.
func TestWebViewThreeReplicas(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	tab := browsertest.New(ctx, t, 1400, 1000)
	addr, cl, _ := clickCountBroker(ctx, t)

	c := newCluster(t, addr, 3, "--checkpoint-interval", "2s")
	c.startAll()
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})
	leader := c.leader(ctx, []int{0, 1, 2})
	view, victim := (leader+1)%3, (leader+2)%3 // a follower's page; the other follower dies
	var produced atomic.Int64
	// About 2,500 clicks a second for the rest of the test, so the page shows rates.
	streamClicks(ctx, cl, makeClicks(0, 600000), &produced, clickStream{chunk: 50, gap: 20 * time.Millisecond})

	requests := recordRequests(t, tab)
	if err := chromedp.Do(tab, chromedp.Navigate("http://"+c.status[view]+"/")); err != nil {
		t.Fatal(err)
	}
	p := pageUntil(ctx, t, tab, "the diagram is drawn and the members listed", func(p webPage) bool {
		return p.SVGNodes > 0 && len(p.Members) == 3 && p.Leader != ""
	})
	// The topology's source, sink, internal topics and store, as click-count
	// (examples/clickcount/topology.go) names them.
	for _, label := range []string{inputTopic, outputTopic, repartitionTopic, changelogTopic, "store click-counts", "Count"} {
		if !strings.Contains(p.Diagram, label) {
			t.Errorf("diagram lacks %q; its text: %q", label, p.Diagram)
		}
	}
	if want := []string{"r0", "r1", "r2"}; !equalStrings(p.Members, want) || p.Leader != fmt.Sprintf("r%d", leader) {
		t.Errorf("members %v with leader %q, want %v with leader r%d", p.Members, p.Leader, want, leader)
	}
	before := ownersByName(owners)
	p = pageUntil(ctx, t, tab, "the assignment and every task's row match the replicas' /status, with a rate", func(p webPage) bool {
		return maps.Equal(p.Assignment, before) && maps.Equal(p.TaskRows, before) && anyRate(p.Rates)
	})
	t.Logf("page of r%d before the kill: assignment %v, rates %v", view, p.Assignment, p.Rates)
	historyBefore := p.History

	c.kill(victim)
	t.Logf("SIGKILLed r%d with %d clicks produced; the leader is r%d", victim, produced.Load(), leader)
	after := ownersByName(c.everyTaskRunning(ctx, []int{leader, view}))
	p = pageUntil(ctx, t, tab, "the assignment shown is the survivors'", func(p webPage) bool {
		return maps.Equal(p.Assignment, after) && maps.Equal(p.TaskRows, after) && anyRate(p.Rates) && p.Error == ""
	})
	if maps.Equal(p.Assignment, before) {
		t.Errorf("assignment on the page did not change after the SIGKILL of r%d: %v", victim, p.Assignment)
	}
	for task, o := range p.Assignment {
		if o == fmt.Sprintf("r%d", victim) {
			t.Errorf("task %s still shown on the killed r%d", task, victim)
		}
	}
	if p.History <= historyBefore {
		t.Errorf("assignment history shows %d changes after the kill, %d before", p.History, historyBefore)
	}
	t.Logf("page of r%d after the kill: assignment %v, %d assignment changes listed", view, p.Assignment, p.History)
	screenshot(t, tab)
	checkOnlyLocal(t, requests(), "http://"+c.status[view]+"/")
}

// recordRequests records the URL of every request the tab makes from now on.
func recordRequests(t *testing.T, tab context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var urls []string
	err := chromedp.Listen(tab, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, r.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(urls)
	}
}

// checkOnlyLocal requires the page to have loaded everything from the replica
// (base) and nothing from elsewhere: it works with no internet.
func checkOnlyLocal(t *testing.T, urls []string, base string) {
	t.Helper()
	loaded := map[string]bool{}
	for _, u := range urls {
		switch {
		case strings.HasPrefix(u, base):
			loaded[strings.TrimPrefix(u, base)] = true
		case strings.HasPrefix(u, "data:"), strings.HasPrefix(u, "blob:"):
		default:
			t.Errorf("the page requested %s, not from the replica", u)
		}
	}
	for _, want := range []string{"", "ui/static/mermaid.min.js", "ui/static/app.js", "ui/static/style.css", "ui/topology.json", "ui/group.json"} {
		if !loaded[want] {
			t.Errorf("the page never requested %s%s (requested: %v)", base, want, slices.Sorted(maps.Keys(loaded)))
		}
	}
	t.Logf("%d requests, all to the replica: %v", len(urls), slices.Sorted(maps.Keys(loaded)))
}

func anyRate(rates []string) bool {
	for _, r := range rates {
		if r != "…" && r != "0" && r != "" {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// screenshot keeps the page as a PNG in the test's directory, and where
// GOFKA_WEBVIEW_SCREENSHOT says.
func screenshot(t *testing.T, tab context.Context) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dests := []string{filepath.Join(t.TempDir(), "webview.png")}
	if d := os.Getenv(screenshotEnv); d != "" {
		dests = append(dests, d)
	}
	for _, d := range dests {
		if err := os.WriteFile(d, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot (%d bytes) in %v", len(png), dests)
}
