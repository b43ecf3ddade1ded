package engine

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gofka/streams/internal/browsertest"
	"github.com/gofka/streams/runtime"
)

// TestWebViewWithStatusToken opens the web view of a status server that
// requires a token, in headless chromium, with the token in the URL's
// fragment: the page loads without it, sends it with its JSON requests, draws
// the program's topology and this replica's tasks, and drops the token from
// the address bar.
func TestWebViewWithStatusToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tab := browsertest.New(ctx, t, 1200, 900)

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e := statusEngine(Config{AppID: "web-app", ReplicaID: "r-web", StatusTokenFile: tokenFile}, slog.New(slog.NewTextHandler(&logs, nil)))
	e.prog = &runtime.Program{Name: "Lines", DefaultAppID: "lines",
		Topics: []runtime.TopicSpec{{Name: "lines-in", Kind: runtime.SourceTopic}, {Name: "lines-out", Kind: runtime.SinkTopic}},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1}},
		},
	}
	s, err := startStatus(e, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.mu.Lock()
	s.view = replicaView{App: "web-app", Replica: "r-web", Updated: time.Now(),
		Tasks: []taskView{{Task: "0_0", Lag: 4242, Processed: 1234, StateFrom: "local state", StreamTime: -1}}}
	s.mu.Unlock()

	if err := chromedp.Do(tab, chromedp.Navigate("http://"+s.addr+"/#token=s3cret-token")); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Title, Summary, Diagram, Lag, Hash, Error string
	}
	var last page
	for {
		p, err := chromedp.Run(tab, chromedp.Evaluate[page](`(() => {
		  const svg = document.querySelector("#topology svg");
		  const lag = document.querySelector('#tasks tr[data-task="0_0"] td.lag');
		  const banner = document.getElementById("error");
		  return {Title: document.getElementById("title").textContent, Summary: document.getElementById("summary").textContent,
		    Diagram: svg ? svg.textContent : "", Lag: lag ? lag.textContent : "", Hash: location.hash,
		    Error: banner.hidden ? "" : banner.textContent};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		last = p
		if p.Diagram != "" && p.Lag != "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never showed the topology and the task: %+v", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if last.Title != "web-app · Lines" || !strings.Contains(last.Summary, "replica r-web") || last.Lag != "4,242" || last.Error != "" {
		t.Errorf("page shows title %q, summary %q, lag %q, error %q; want web-app · Lines, replica r-web, 4,242, none", last.Title, last.Summary, last.Lag, last.Error)
	}
	for _, label := range []string{"lines-in", "lines-out", "Sub-topology 0"} {
		if !strings.Contains(last.Diagram, label) {
			t.Errorf("diagram lacks %q: %q", label, last.Diagram)
		}
	}
	if last.Hash != "" {
		t.Errorf("the token stays in the address bar: %q", last.Hash)
	}
}
