package engine

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gofka/streams/internal/browsertest"
	"github.com/gofka/streams/runtime"
)

// TestWebViewWithStatusToken opens the web view of a status server that
// requires a token, in headless chromium, with the token in the URL's
// fragment: the page loads without it, sends it with its JSON requests, draws
// the program's topology and this replica's tasks, and drops the token from
// the address bar. In a new tab without it, the page asks for the token once
// (a prompt, answered through the DevTools protocol) and then shows the same.
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
	last := readWebView(ctx, t, tab)
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

	// A new tab without the token in its address: the page asks for it, once.
	tab2, cancel2 := chromedp.NewContext(tab)
	defer cancel2()
	dialogs := make(chan string, 4)
	var prompts atomic.Int32
	if err := chromedp.Listen(tab2, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			prompts.Add(1)
			dialogs <- string(d.Type)
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for typ := range dialogs {
			if typ != "prompt" {
				t.Errorf("the page opened a %s dialog, want a prompt", typ)
			}
			chromedp.Call(tab2, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true, PromptText: "s3cret-token"})
		}
	}()
	if err := chromedp.Do(tab2, chromedp.Navigate("http://"+s.addr+"/")); err != nil {
		t.Fatal(err)
	}
	p := readWebView(ctx, t, tab2)
	if n := prompts.Load(); p.Lag != "4,242" || n != 1 {
		t.Errorf("after typing the token: lag %q, %d prompts; want 4,242 after one prompt", p.Lag, n)
	}
}

type webView struct {
	Title, Summary, Diagram, Lag, Hash, Error string
}

// readWebView reads the page until it shows the topology and task 0_0.
func readWebView(ctx context.Context, t *testing.T, tab context.Context) webView {
	t.Helper()
	var last webView
	for {
		p, err := chromedp.Run(tab, chromedp.Evaluate[webView](`(() => {
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
			return last
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never showed the topology and the task: %+v", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
