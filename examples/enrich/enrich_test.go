package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/streamstest"
)

// day is 2026-01-01T00:00:00Z in milliseconds.
var day = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

const (
	iphone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
	android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
	ipad    = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
	linux   = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	mac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Safari/605.1.15"
)

type driver struct {
	*streamstest.Driver
	in       *streamstest.InputTopic[string, PageView]
	enriched *streamstest.OutputTopic[string, EnrichedView]
	admin    *streamstest.OutputTopic[string, EnrichedView]
}

func newDriver(partitions int32) driver {
	d := streamstest.NewDriver(CompiledEnrich(), streamstest.WithPartitions(partitions))
	return driver{
		Driver:   d,
		in:       streamstest.Input(d, "page-views", streams.String(), streams.JSON[PageView]()),
		enriched: streamstest.Output(d, "enriched-views", streams.String(), streams.JSON[EnrichedView]()),
		admin:    streamstest.Output(d, "admin-views", streams.String(), streams.JSON[EnrichedView]()),
	}
}

// TestExamples pipes a few views and compares the output with results written out
// by hand.
func TestExamples(t *testing.T) {
	d := newDriver(1)
	defer d.Close()
	views := []PageView{
		{User: "ann", URL: "https://Shop.Example.com/products/42?ref=mail", TimestampMs: day + 10*3600_000 + 59*60_000, UserAgent: iphone},
		{User: "bob", URL: "/admin/users", TimestampMs: day + 23*3600_000 + 30*60_000, UserAgent: linux},
		{User: "eve", URL: "", TimestampMs: day},
		{User: "eve", URL: "   ", TimestampMs: day},
		{User: "eve", URL: "http://[::1", TimestampMs: day},
		{User: "eve", URL: "%zz", TimestampMs: day},
		{User: "eve", URL: "ftp://files.example.com/admin", TimestampMs: day},
		{User: "eve", URL: "javascript:alert(1)", TimestampMs: day},
		{User: "eve", URL: "https://", TimestampMs: day},
		{User: "eve", URL: "?q=1", TimestampMs: day},
		{User: "cy", URL: "https://example.com", TimestampMs: day + 5*3600_000, UserAgent: ipad},
		{User: "cy", URL: "//cdn.example.com//Blog/./2026/../post", TimestampMs: day + 6*3600_000},
		{User: "dan", URL: "/x/../ADMIN/", TimestampMs: day + 12*3600_000, UserAgent: android},
		{User: "dan", URL: "cart", TimestampMs: day + 17*3600_000 + 3599_999, UserAgent: mac},
	}
	wantEnriched := []streams.KeyValue[string, EnrichedView]{
		{Key: "ann", Value: EnrichedView{User: "ann", URL: "https://Shop.Example.com/products/42?ref=mail", TimestampMs: day + 10*3600_000 + 59*60_000, UserAgent: iphone,
			Host: "shop.example.com", Path: "/products/42", Section: "products", Hour: 10, DayPart: "morning", IsMobile: true}},
		{Key: "cy", Value: EnrichedView{User: "cy", URL: "https://example.com", TimestampMs: day + 5*3600_000, UserAgent: ipad,
			Host: "example.com", Path: "/", Section: "home", Hour: 5, DayPart: "night", IsMobile: true}},
		{Key: "cy", Value: EnrichedView{User: "cy", URL: "//cdn.example.com//Blog/./2026/../post", TimestampMs: day + 6*3600_000,
			Host: "cdn.example.com", Path: "/Blog/post", Section: "blog", Hour: 6, DayPart: "morning"}},
		{Key: "dan", Value: EnrichedView{User: "dan", URL: "cart", TimestampMs: day + 17*3600_000 + 3599_999, UserAgent: mac,
			Path: "/cart", Section: "cart", Hour: 17, DayPart: "afternoon"}},
	}
	wantAdmin := []streams.KeyValue[string, EnrichedView]{
		{Key: "bob", Value: EnrichedView{User: "bob", URL: "/admin/users", TimestampMs: day + 23*3600_000 + 30*60_000, UserAgent: linux,
			Path: "/admin/users", Section: "admin", Hour: 23, DayPart: "evening"}},
		{Key: "dan", Value: EnrichedView{User: "dan", URL: "/x/../ADMIN/", TimestampMs: day + 12*3600_000, UserAgent: android,
			Path: "/ADMIN", Section: "admin", Hour: 12, DayPart: "afternoon", IsMobile: true}},
	}

	enriched0, admin0 := enrichedViews.Load(), adminViews.Load()
	for _, v := range views {
		if err := d.in.Pipe(v.User, v); err != nil {
			t.Fatal(err)
		}
	}
	gotEnriched, err := d.enriched.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	gotAdmin, err := d.admin.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotEnriched, wantEnriched) {
		t.Errorf("enriched-views:\n%s\nwant\n%s", show(gotEnriched), show(wantEnriched))
	}
	if !slices.Equal(gotAdmin, wantAdmin) {
		t.Errorf("admin-views:\n%s\nwant\n%s", show(gotAdmin), show(wantAdmin))
	}
	if n := enrichedViews.Load() - enriched0; n != 6 {
		t.Errorf("Peek counted %d enriched views, want 6", n)
	}
	if n := adminViews.Load() - admin0; n != 2 {
		t.Errorf("Peek counted %d admin views, want 2", n)
	}
}

// TestJSONFields checks the output's field names, which consumers depend on.
func TestJSONFields(t *testing.T) {
	d := newDriver(1)
	defer d.Close()
	v := PageView{User: "ann", URL: "https://example.com/blog/hello", TimestampMs: day + 19*3600_000, UserAgent: android}
	if err := d.in.Pipe("ann", v); err != nil {
		t.Fatal(err)
	}
	recs := d.ReadRaw("enriched-views")
	if len(recs) != 1 {
		t.Fatalf("%d records in enriched-views, want 1", len(recs))
	}
	var got map[string]any
	if err := json.Unmarshal(recs[0].Value, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"user": "ann", "url": "https://example.com/blog/hello", "timestamp_ms": float64(day + 19*3600_000),
		"user_agent": android, "host": "example.com", "path": "/blog/hello", "section": "blog",
		"hour": float64(19), "day_part": "evening", "is_mobile": true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("value = %s\nwant fields %v", recs[0].Value, want)
	}
}

// generated is a view made from known parts, so its enrichment is known without
// computing it: where it goes (nowhere, enriched-views or admin-views) and the
// fields it gets.
type generated struct {
	view  PageView
	drop  bool
	admin bool
	want  EnrichedView
}

// generate makes n views from seed: every seventh has a bad URL.
func generate(seed uint64, n int) []generated {
	rng := rand.New(rand.NewPCG(seed, 7))
	sections := []struct{ segment, section string }{
		{"", "home"}, {"products", "products"}, {"Products", "products"}, {"admin", "admin"},
		{"Admin", "admin"}, {"blog", "blog"}, {"cart", "cart"},
	}
	agents := []struct {
		agent  string
		mobile bool
	}{{iphone, true}, {android, true}, {ipad, true}, {linux, false}, {mac, false}, {"", false}}
	badURLs := []string{"", " ", "\t", "%zz", "http://[::1", "mailto:ann@example.com", "https://", "https:///admin", "?page=2", "#top"}
	parts := []string{"night", "night", "night", "night", "night", "night",
		"morning", "morning", "morning", "morning", "morning", "morning",
		"afternoon", "afternoon", "afternoon", "afternoon", "afternoon", "afternoon",
		"evening", "evening", "evening", "evening", "evening", "evening"}

	out := make([]generated, n)
	for i := range out {
		user := fmt.Sprintf("user-%d", rng.IntN(25))
		hour := rng.IntN(24)
		ts := day + int64(rng.IntN(30))*86400_000 + int64(hour)*3600_000 + rng.Int64N(3600_000)
		a := agents[rng.IntN(len(agents))]
		if i%7 == 3 {
			out[i] = generated{view: PageView{User: user, URL: badURLs[rng.IntN(len(badURLs))], TimestampMs: ts, UserAgent: a.agent}, drop: true}
			continue
		}
		s := sections[rng.IntN(len(sections))]
		var rawURL, host, path string
		switch {
		case s.segment == "" && rng.IntN(2) == 0:
			rawURL, host, path = "https://WWW.example.com", "www.example.com", "/"
		case s.segment == "":
			rawURL, host, path = "/", "", "/"
		case rng.IntN(2) == 0:
			path = fmt.Sprintf("/%s/item-%d", s.segment, i)
			rawURL, host = fmt.Sprintf("http://shop.example.com:8080%s?session=%d", path, i), "shop.example.com"
		default:
			path = fmt.Sprintf("/%s/item-%d", s.segment, i)
			rawURL = path + "#details"
		}
		out[i] = generated{
			view:  PageView{User: user, URL: rawURL, TimestampMs: ts, UserAgent: a.agent},
			admin: s.section == "admin",
			want: EnrichedView{User: user, URL: rawURL, TimestampMs: ts, UserAgent: a.agent,
				Host: host, Path: path, Section: s.section, Hour: hour, DayPart: parts[hour], IsMobile: a.mobile},
		}
	}
	return out
}

// TestGenerated pipes 2000 generated views on 3 partitions: each output record is
// the expected view, in input order, on its user's partition, and the Peek counters
// agree.
func TestGenerated(t *testing.T) {
	const partitions = 3
	d := newDriver(partitions)
	defer d.Close()
	views := generate(42, 2000)
	var wantEnriched, wantAdmin []EnrichedView
	for _, g := range views {
		switch {
		case g.drop:
		case g.admin:
			wantAdmin = append(wantAdmin, g.want)
		default:
			wantEnriched = append(wantEnriched, g.want)
		}
	}
	if len(wantAdmin) < 100 || len(wantEnriched) < 1000 {
		t.Fatalf("generated %d admin and %d other views: too few", len(wantAdmin), len(wantEnriched))
	}

	enriched0, admin0 := enrichedViews.Load(), adminViews.Load()
	for _, g := range views {
		if err := d.in.Pipe(g.view.User, g.view); err != nil {
			t.Fatal(err)
		}
	}
	check := func(out *streamstest.OutputTopic[string, EnrichedView], name string, want []EnrichedView) {
		t.Helper()
		recs, err := out.ReadRecords()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(want) {
			t.Errorf("%s: %d records, want %d", name, len(recs), len(want))
		}
		for i := range min(len(recs), len(want)) {
			r := recs[i]
			if r.Key != want[i].User || r.Value != want[i] {
				t.Errorf("%s record %d: %s %+v\nwant %s %+v", name, i, r.Key, r.Value, want[i].User, want[i])
			}
			if p := runtime.Partition([]byte(r.Key), partitions); r.Partition != p {
				t.Errorf("%s record %d for %s on partition %d, want %d", name, i, r.Key, r.Partition, p)
			}
		}
	}
	check(d.enriched, "enriched-views", wantEnriched)
	check(d.admin, "admin-views", wantAdmin)
	if n := enrichedViews.Load() - enriched0; n != int64(len(wantEnriched)+len(wantAdmin)) {
		t.Errorf("Peek counted %d enriched views, want %d", n, len(wantEnriched)+len(wantAdmin))
	}
	if n := adminViews.Load() - admin0; n != int64(len(wantAdmin)) {
		t.Errorf("Peek counted %d admin views, want %d", n, len(wantAdmin))
	}
}

func show(kvs []streams.KeyValue[string, EnrichedView]) string {
	s := ""
	for _, kv := range kvs {
		s += fmt.Sprintf("  %s %+v\n", kv.Key, kv.Value)
	}
	return s
}
