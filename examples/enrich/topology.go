// Command enrich is a stateless enrichment pipeline: it reads page views, drops
// those whose URL is empty or malformed, adds fields computed from each view
// (the site section, the hour of the day, whether it came from a mobile device),
// and routes views of the admin section to their own topic.
//
//	page-views (key: user id, value: JSON PageView)
//	  │
//	  ├─ FilterNot(hasBadURL)      drop empty, unparsable and non-HTTP URLs
//	  ├─ MapValues(enrich)         PageView → EnrichedView
//	  ├─ Peek(countView)           count every enriched view
//	  └─ Branch(isAdmin, anyView)
//	       ├─[0] Peek(countAdminView) ─▶ admin-views     (key: user id, value: JSON EnrichedView)
//	       └─[1] ─────────────────────▶ enriched-views  (key: user id, value: JSON EnrichedView)
//
// Every step keeps the key, and nothing is grouped, so the topology is a single
// sub-topology with no internal topic and no state: each partition of page-views is
// processed independently, and the output keeps the input's partitioning by user.
//
// # Running it
//
// gofkagen writes gofka_gen.go, including main, from the topology below:
//
//	go generate && go build && ./enrich
//
// With no --brokers the binary starts an embedded in-memory broker on
// 127.0.0.1:9092 (change it with --embedded-listen). Produce views with kcat (key
// and value separated by '|'), and read the results:
//
//	printf '%s\n' \
//		'ann|{"user":"ann","url":"https://shop.example.com/products/42?ref=mail","timestamp_ms":1767261600000,"user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}' \
//		'bob|{"user":"bob","url":"/admin/users","timestamp_ms":1767225600000,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}' \
//		'eve|{"user":"eve","url":"","timestamp_ms":1767225600000}' |
//		kcat -P -b 127.0.0.1:9092 -t page-views -K '|'
//	kcat -C -b 127.0.0.1:9092 -t enriched-views -e -f '%k %s\n'
//	kcat -C -b 127.0.0.1:9092 -t admin-views -e -f '%k %s\n'
//
// ann's view goes to enriched-views with section "products", hour 10 and is_mobile
// true; bob's goes to admin-views; eve's is dropped.
package main

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofka/streams"
)

// PageView is one page view, as the web servers log it.
type PageView struct {
	User        string `json:"user"`
	URL         string `json:"url"`
	TimestampMs int64  `json:"timestamp_ms"` // milliseconds since the Unix epoch
	UserAgent   string `json:"user_agent,omitempty"`
}

// EnrichedView is a PageView with fields computed from it.
type EnrichedView struct {
	User        string `json:"user"`
	URL         string `json:"url"`
	TimestampMs int64  `json:"timestamp_ms"`
	UserAgent   string `json:"user_agent,omitempty"`

	Host     string `json:"host,omitempty"` // the URL's host, lowercase; empty for a relative URL
	Path     string `json:"path"`           // the URL's path, cleaned: "/products/42"
	Section  string `json:"section"`        // the first segment of Path, lowercase; "home" for "/"
	Hour     int    `json:"hour"`           // hour of the day of the view, 0 to 23, UTC
	DayPart  string `json:"day_part"`       // night (0-5), morning (6-11), afternoon (12-17), evening (18-23)
	IsMobile bool   `json:"is_mobile"`      // the user agent is a phone's or a tablet's
}

// Counters updated by the Peek steps. The generated code runs one task per
// partition, possibly concurrently, so they are atomic.
var (
	enrichedViews atomic.Int64 // views that passed the filter
	adminViews    atomic.Int64 // of those, views of the admin section
)

// hasBadURL reports whether a view's URL cannot be enriched: empty, unparsable,
// with a scheme other than http or https, or with no path and no host.
func hasBadURL(_ string, v PageView) bool {
	raw := strings.TrimSpace(v.URL)
	if raw == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return true
	}
	switch strings.ToLower(u.Scheme) {
	case "":
		return u.Host == "" && u.Path == ""
	case "http", "https":
		return u.Host == ""
	default:
		return true
	}
}

// enrich computes the fields of an EnrichedView. It is called only for views
// hasBadURL accepts.
func enrich(v PageView) EnrichedView {
	u, _ := url.Parse(strings.TrimSpace(v.URL))
	p := cleanPath(u.Path)
	hour := time.UnixMilli(v.TimestampMs).UTC().Hour()
	return EnrichedView{
		User:        v.User,
		URL:         v.URL,
		TimestampMs: v.TimestampMs,
		UserAgent:   v.UserAgent,
		Host:        strings.ToLower(u.Hostname()),
		Path:        p,
		Section:     section(p),
		Hour:        hour,
		DayPart:     dayPart(hour),
		IsMobile:    isMobileAgent(v.UserAgent),
	}
}

// cleanPath makes p absolute and removes ".", ".." and repeated slashes, so that
// "/x/../admin" is seen as the admin section.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// section is the first segment of a clean path, lowercase, or "home" for "/".
func section(p string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if first == "" {
		return "home"
	}
	return strings.ToLower(first)
}

// dayPart names the quarter of the day an hour falls in.
func dayPart(hour int) string {
	switch {
	case hour < 6:
		return "night"
	case hour < 12:
		return "morning"
	case hour < 18:
		return "afternoon"
	default:
		return "evening"
	}
}

// mobileMarkers are substrings of the user agents of phones and tablets.
var mobileMarkers = []string{"mobile", "android", "iphone", "ipad", "ipod", "windows phone", "opera mini"}

// isMobileAgent reports whether a user agent is a phone's or a tablet's.
func isMobileAgent(agent string) bool {
	agent = strings.ToLower(agent)
	for _, m := range mobileMarkers {
		if strings.Contains(agent, m) {
			return true
		}
	}
	return false
}

func countView(_ string, _ EnrichedView) { enrichedViews.Add(1) }

func countAdminView(_ string, _ EnrichedView) { adminViews.Add(1) }

func isAdmin(_ string, v EnrichedView) bool { return v.Section == "admin" }

func anyView(_ string, _ EnrichedView) bool { return true }

// Enrich enriches page views and routes admin views to their own topic.
//
//gofka:topology
func Enrich(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.JSON[PageView]()), "page-views").
		FilterNot(hasBadURL).
		MapValues(enrich).
		Peek(countView).
		Branch(isAdmin, anyView)
	views[0].Peek(countAdminView).To("admin-views")
	views[1].To("enriched-views")
}
