// Package serde benchmarks the JSON serdes gofkagen generates (gofka_gen.go,
// from the topology in topology.go) against encoding/json, goccy/go-json and
// bytedance/sonic, on the click-count record and a Nexmark bid. make bench-serde
// runs the benchmarks and writes bench/results/serde.md with ./report.
package serde

//go:generate go tool gofkagen

import "time"

// Click is examples/clickcount's record (that package is a command, so it is
// repeated here, tags included).
type Click struct {
	User string `json:"user"`
	URL  string `json:"url"`
	Bot  bool   `json:"bot"`
}

// Bid is a Nexmark bid, with the fields of the Nexmark specification.
type Bid struct {
	Auction  int64     `json:"auction"`
	Bidder   int64     `json:"bidder"`
	Price    int64     `json:"price"`
	Channel  string    `json:"channel"`
	URL      string    `json:"url"`
	DateTime time.Time `json:"dateTime"`
	Extra    string    `json:"extra"`
}
