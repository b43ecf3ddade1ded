// Package reference computes the Nexmark queries by brute force, in plain Go over
// the decoded event list, to check the topologies' output against. It shares no
// code with the DSL, the runtime or the windowing and state packages: each query
// follows its SQL in nexmark-flink/src/main/resources/queries with Flink SQL's
// semantics, written out as loops and maps.
//
//	[]model.Event ──Run(query)──▶ rows (one JSON object each, keys = the SQL sink's columns)
//
// Semantics kept exactly:
//   - event time is dateTime; the watermark is the largest dateTime seen so far
//     minus 4 s (the suite's WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND);
//     a record is late for a window, and left out of it, when the window's last
//     millisecond is at or before the watermark when the record arrives; every
//     window is closed at the end of the input;
//   - q3 is a regular (unwindowed) join, so every matching auction and person
//     pair is a row, whichever came first;
//   - BETWEEN is inclusive at both ends (q4, q7);
//   - every tie is a row (q5's auctions with the top count, q7's bids at the top price);
//   - a session (q11) is [first, last + gap), and two bids exactly gap apart are in one session;
//   - q4's AVG over BIGINT is a BIGINT: the sum divided by the count, truncated;
//   - q7's SELECT lists price before bidder while its sink lists bidder before
//     price, so Flink writes each into the other's column; here each is written
//     under its own name.
package reference

import (
	"fmt"
	"strconv"

	"github.com/gofka/streams/examples/nexmark/model"
)

// WatermarkDelay is the suite's out-of-orderness: watermark = dateTime − 4 s.
const WatermarkDelay = 4000

// Queries lists the queries Run knows.
var Queries = []string{"q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11"}

// Run computes query q over events (in input order) and returns its rows, each a
// value whose JSON encoding is the row.
func Run(q string, events []model.Event) ([]any, error) {
	f, ok := map[string]func([]model.Event) []any{
		"q0": Q0, "q1": Q1, "q2": Q2, "q3": Q3, "q4": Q4, "q5": Q5, "q7": Q7, "q8": Q8, "q11": Q11,
	}[q]
	if !ok {
		return nil, fmt.Errorf("reference: no query %q (queries: %v)", q, Queries)
	}
	return f(events), nil
}

// BidRow is a row of q0 and q7.
type BidRow struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Q1Row is a row of q1: the price in euros, DECIMAL(23, 3).
type Q1Row struct {
	Auction  int64   `json:"auction"`
	Bidder   int64   `json:"bidder"`
	Price    float64 `json:"price"`
	DateTime int64   `json:"dateTime"`
	Extra    string  `json:"extra"`
}

// Q2Row is a row of q2.
type Q2Row struct {
	Auction int64 `json:"auction"`
	Price   int64 `json:"price"`
}

// Q3Row is a row of q3.
type Q3Row struct {
	Name  string `json:"name"`
	City  string `json:"city"`
	State string `json:"state"`
	ID    int64  `json:"id"`
}

// Q4Row is a row of q4: a category and the average winning price in it.
type Q4Row struct {
	ID    int64 `json:"id"`
	Final int64 `json:"final"`
}

// Q5Row is a row of q5.
type Q5Row struct {
	Auction int64 `json:"auction"`
	Num     int64 `json:"num"`
}

// Q8Row is a row of q8.
type Q8Row struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	STime int64  `json:"stime"`
}

// Q11Row is a row of q11.
type Q11Row struct {
	Bidder    int64 `json:"bidder"`
	BidCount  int64 `json:"bid_count"`
	StartTime int64 `json:"starttime"`
	EndTime   int64 `json:"endtime"`
}

func bids(events []model.Event) []model.Event { return ofType(events, model.TypeBid) }

func ofType(events []model.Event, typ string) []model.Event {
	var out []model.Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// Q0 is the pass-through: every bid.
func Q0(events []model.Event) []any {
	var rows []any
	for _, b := range bids(events) {
		rows = append(rows, BidRow{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
	}
	return rows
}

// Q1 converts each bid's price to euros: 0.908 * price, the DECIMAL(23, 3) the
// suite computes, written out digit by digit and read as the nearest float64.
func Q1(events []model.Event) []any {
	var rows []any
	for _, b := range bids(events) {
		milli := b.Price * 908 // 0.908 = 908 thousandths
		euros, err := strconv.ParseFloat(fmt.Sprintf("%d.%03d", milli/1000, milli%1000), 64)
		if err != nil {
			panic(err) // a non-negative integer and three digits always parse
		}
		rows = append(rows, Q1Row{b.Auction, b.Bidder, euros, b.DateTime, b.Extra})
	}
	return rows
}

// Q2 keeps the bids on auctions whose id is a multiple of 123.
func Q2(events []model.Event) []any {
	var rows []any
	for _, b := range bids(events) {
		if b.Auction%123 == 0 {
			rows = append(rows, Q2Row{b.Auction, b.Price})
		}
	}
	return rows
}

// Q3 joins auctions in category 10 with their sellers in OR, ID or CA.
func Q3(events []model.Event) []any {
	var rows []any
	persons := ofType(events, model.TypePerson)
	for _, a := range ofType(events, model.TypeAuction) {
		if a.Category != 10 {
			continue
		}
		for _, p := range persons {
			if p.ID == a.Seller && (p.State == "OR" || p.State == "ID" || p.State == "CA") {
				rows = append(rows, Q3Row{p.Name, p.City, p.State, a.ID})
			}
		}
	}
	return rows
}

// Q4 averages, per category, the winning (highest) price of each auction among
// the bids made while it was open (dateTime between the auction's dateTime and
// expires, both inclusive).
func Q4(events []model.Event) []any {
	byAuction := map[int64][]model.Event{}
	for _, b := range bids(events) {
		byAuction[b.Auction] = append(byAuction[b.Auction], b)
	}
	type sum struct{ total, n int64 }
	var order []int64
	perCategory := map[int64]*sum{}
	for _, a := range ofType(events, model.TypeAuction) {
		final, found := int64(0), false
		for _, b := range byAuction[a.ID] {
			if b.DateTime >= a.DateTime && b.DateTime <= a.Expires && (!found || b.Price > final) {
				final, found = b.Price, true
			}
		}
		if !found {
			continue
		}
		s := perCategory[a.Category]
		if s == nil {
			s = &sum{}
			perCategory[a.Category] = s
			order = append(order, a.Category)
		}
		s.total += final
		s.n++
	}
	var rows []any
	for _, c := range order {
		rows = append(rows, Q4Row{c, perCategory[c].total / perCategory[c].n})
	}
	return rows
}
