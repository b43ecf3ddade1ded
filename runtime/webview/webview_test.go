package webview

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gofka/streams/runtime"
)

func serve(t *testing.T, topo Topology) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Mount(mux, topo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The page loads nothing from elsewhere: every script and style sheet it names
// is served from the binary, and the Mermaid bundle is the one
// scripts/fetch-mermaid.sh pins.
func TestPageIsSelfContained(t *testing.T) {
	srv := serve(t, Topology{Name: "T", AppID: "a", Mermaid: "graph TD\n  a --> b\n"})
	code, page := fetch(t, srv.URL+"/")
	if code != http.StatusOK || !strings.Contains(page, "<table id=\"assignment\">") {
		t.Fatalf("GET /: %d, want the page", code)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("page names %d assets, want the script, the style sheet and Mermaid", len(refs))
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], StaticPrefix) {
			t.Errorf("page loads %s, not from %s", m[1], StaticPrefix)
			continue
		}
		if code, _ := fetch(t, srv.URL+m[1]); code != http.StatusOK {
			t.Errorf("GET %s: %d", m[1], code)
		}
	}
	_, bundle := fetch(t, srv.URL+StaticPrefix+"mermaid.min.js")
	sum := sha256.Sum256([]byte(bundle))
	script, err := os.ReadFile("../../scripts/fetch-mermaid.sh")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`(?m)^SHA256=([0-9a-f]{64})$`).FindSubmatch(script)
	if pinned == nil || string(pinned[1]) != hex.EncodeToString(sum[:]) {
		t.Errorf("served mermaid.min.js has sha256 %x, scripts/fetch-mermaid.sh pins %s", sum, pinned)
	}
	if code, _ := fetch(t, srv.URL+"/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing: %d, want 404 (only / is the page)", code)
	}
	var topo Topology
	_, body := fetch(t, srv.URL+"/ui/topology.json")
	if err := json.Unmarshal([]byte(body), &topo); err != nil || topo.Mermaid != "graph TD\n  a --> b\n" || topo.AppID != "a" {
		t.Errorf("topology.json: %s (%v)", body, err)
	}
}

// handWritten is a two-sub-topology program without gofkagen's diagram: a
// source topic into a repartition topic, then a counting store with its
// changelog and an output.
func handWritten() *runtime.Program {
	return &runtime.Program{Name: "Counts", DefaultAppID: "counts",
		Topics: []runtime.TopicSpec{
			{Name: "in", Kind: runtime.SourceTopic},
			{Name: "by-user-repartition", Kind: runtime.RepartitionTopic},
			{Name: "totals-changelog", Kind: runtime.ChangelogTopic},
			{Name: "out", Kind: runtime.SinkTopic},
		},
		Stores: []runtime.StoreSpec{{Name: "totals", Changelog: 2, Persistent: true, SubTopology: 1}},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1}},
			{ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{1}}}, Sinks: []runtime.TopicID{3}, Stores: []int{0}},
		},
	}
}

func TestDiagramOfHandWrittenProgram(t *testing.T) {
	got := Diagram(handWritten(), "app7")
	want := `graph TD
  subgraph st0["Sub-topology 0"]
    s0_0["Source"]
    p0["Process"]
  end
  subgraph st1["Sub-topology 1"]
    s1_0["Source"]
    p1["Process"]
    d0[("store totals")]
  end
  t0[("in")]
  t1[("app7-by-user-repartition")]
  t2[("app7-totals-changelog")]
  t3[("out")]
  t0 --> s0_0
  s0_0 --> p0
  p0 --> t1
  t1 --> s1_0
  s1_0 --> p1
  p1 --- d0
  d0 -.changelog.-> t2
  p1 --> t3
`
	if got != want {
		t.Errorf("diagram:\n%s\nwant:\n%s", got, want)
	}
}

// A generated program's diagram names internal topics under the default
// application id; the page shows the names the replica really uses.
func TestDiagramRenamesInternalTopics(t *testing.T) {
	p := handWritten()
	p.Mermaid = "graph TD\n  t0[(\"in\")]\n  t1[(\"counts-by-user-repartition\")]\n  t2[(\"counts-totals-changelog\")]\n  n1[\"#1 Count<br/>store totals\"]\n"
	got := Diagram(p, "app7")
	want := "graph TD\n  t0[(\"in\")]\n  t1[(\"app7-by-user-repartition\")]\n  t2[(\"app7-totals-changelog\")]\n  n1[\"#1 Count<br/>store totals\"]\n"
	if got != want {
		t.Errorf("diagram under app7:\n%s\nwant:\n%s", got, want)
	}
	if got := Diagram(p, "counts"); got != p.Mermaid {
		t.Errorf("under the default id the diagram changed:\n%s", got)
	}
}
