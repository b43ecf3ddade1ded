package main

import (
	"fmt"
	"strconv"
	"strings"
)

// share is the part of gofka's CPU time spent under one function.
type share struct {
	what string  // in words
	fn   string  // the function, as pprof names it
	pct  float64 // cumulative percentage of all samples; -1 when absent
}

// profileShares are the functions whose cumulative time says where gofka's time
// goes, from the top of the record path to the libraries under it. They
// overlap: the tasks include the JSON decoding, for example.
var profileShares = []share{
	{what: "engine: poll, route and process fetched batches", fn: "github.com/gofka/streams/runtime/engine.(*Engine).processPartition"},
	{what: "sub-topology 0: decode the click, filter, re-key, emit to the repartition topic", fn: "main.(*clickCountTask0).processUserClicks"},
	{what: "… of which JSON decoding of the click (encoding/json)", fn: "encoding/json.Unmarshal"},
	{what: "sub-topology 1: count in the typed cache, emit the count", fn: "main.(*clickCountTask1).processClickCountsRepartition"},
	{what: "state flush at commit (cache → RocksDB + changelog)", fn: "github.com/gofka/streams/runtime/engine.(*Engine).commit"},
	{what: "franz-go: fetch responses decoded", fn: "github.com/twmb/franz-go/pkg/kgo.(*source).fetch"},
	{what: "franz-go: records buffered for produce (Client.Produce)", fn: "github.com/twmb/franz-go/pkg/kgo.(*Client).Produce"},
	{what: "cgo calls (RocksDB)", fn: "runtime.cgocall"},
	{what: "C code pprof cannot attribute to a Go caller (libc frames, e.g. on RocksDB's own threads)", fn: "[libc.so.6]"},
	{what: "garbage collector, background marking", fn: "runtime.gcBgMarkWorker"},
	{what: "memory allocation (mallocgc)", fn: "runtime.mallocgc"},
}

// sharesFrom reads the cumulative percentages of profileShares out of the text
// of go tool pprof -top -cum.
func sharesFrom(top string) []share {
	cum := map[string]float64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		// flat flat% sum% cum cum% name...
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[5:], " ")
		name = strings.TrimSuffix(name, " (inline)")
		cum[name] = pct
	}
	out := make([]share, len(profileShares))
	for i, s := range profileShares {
		s.pct = -1
		if p, ok := cum[s.fn]; ok {
			s.pct = p
		}
		out[i] = s
	}
	return out
}

// sharesTable renders the shares that the profile has as Markdown.
func sharesTable(ss []share) string {
	var b strings.Builder
	b.WriteString("| where | function | share of CPU samples (cumulative) |\n|---|---|---:|\n")
	for _, s := range ss {
		if s.pct < 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | `%s` | %.1f%% |\n", s.what, s.fn, s.pct)
	}
	return b.String()
}
