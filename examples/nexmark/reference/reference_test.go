package reference

import (
	"reflect"
	"testing"

	"github.com/gofka/streams/examples/nexmark/model"
)

// Each test feeds a handful of events made up for it; the rows it expects are
// worked out by hand from the query's SQL, as the comments say.

func bid(auction, bidder, price, t int64) model.Event {
	return model.Event{Type: model.TypeBid, Auction: auction, Bidder: bidder, Price: price, DateTime: t, Extra: "x"}
}

func person(id int64, name, state string, t int64) model.Event {
	return model.Event{Type: model.TypePerson, ID: id, Name: name, City: "Bend", State: state, DateTime: t}
}

func auction(id, seller, category, t, expires int64) model.Event {
	return model.Event{Type: model.TypeAuction, ID: id, Seller: seller, Category: category, DateTime: t, Expires: expires}
}

func check(t *testing.T, got, want []any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got  %+v\n want %+v", got, want)
	}
}

func TestQ0Q1Q2(t *testing.T) {
	evs := []model.Event{bid(246, 7, 102, 1000), person(1, "a", "OR", 1001), bid(245, 8, 1000, 1002)}
	check(t, Q0(evs), []any{BidRow{246, 7, 102, 1000, "x"}, BidRow{245, 8, 1000, 1002, "x"}})
	// 0.908 × 102 = 92.616; 0.908 × 1000 = 908.
	check(t, Q1(evs), []any{Q1Row{246, 7, 92.616, 1000, "x"}, Q1Row{245, 8, 908, 1002, "x"}})
	// 246 = 2 × 123 passes, 245 does not.
	check(t, Q2(evs), []any{Q2Row{246, 102}})
}

func TestQ3JoinsWhicheverComesFirst(t *testing.T) {
	evs := []model.Event{
		auction(1, 10, 10, 0, 100), // seller 10 comes later, in OR: a row
		person(11, "b", "WA", 1),   // WA: no row for auction 2
		auction(2, 11, 10, 2, 100),
		auction(3, 10, 11, 3, 100), // category 11: no row
		person(10, "a", "OR", 4),
	}
	check(t, Q3(evs), []any{Q3Row{"a", "Bend", "OR", 1}})
}

func TestQ4BetweenInclusiveAndTruncatedAverage(t *testing.T) {
	evs := []model.Event{
		auction(1, 5, 10, 100, 200),
		auction(2, 5, 10, 100, 200),
		auction(3, 5, 11, 100, 200),
		bid(1, 9, 7, 100),  // at the start: counts
		bid(1, 9, 4, 200),  // at expiry: counts; max of auction 1 = 7
		bid(2, 9, 50, 201), // after expiry: does not count
		bid(2, 9, 2, 150),  // auction 2's max = 2
		bid(3, 9, 99, 99),  // before the start: auction 3 has no winner, category 11 no row
	}
	// Category 10: (7 + 2) / 2 = 4.5, truncated to 4.
	check(t, Q4(evs), []any{Q4Row{10, 4}})
}

func TestQ5TopAuctionsPerHoppingWindowWithTies(t *testing.T) {
	// Windows of 10 s every 2 s. Bids at 1 s (auction 1), 1.5 s (auction 2),
	// 9 s (auction 1): windows [-8,2), [-6,4), [-4,6), [-2,8) and [0,10) hold the
	// first two (ties 1:1, both rows) and [0,10) also the third (1 has 2: one row),
	// [2,12) [4,14) [6,16) [8,18) only the third.
	evs := []model.Event{bid(1, 9, 5, 1000), bid(2, 9, 5, 1500), bid(1, 9, 5, 9000)}
	var want []any
	for range 4 { // [-8,2) … [-2,8): auctions 1 and 2 with 1 each
		want = append(want, Q5Row{1, 1}, Q5Row{2, 1})
	}
	want = append(want, Q5Row{1, 2}) // [0,10)
	for range 4 {                    // [2,12) … [8,18)
		want = append(want, Q5Row{1, 1})
	}
	check(t, Q5(evs), want)
}

func TestQ7TopBidsIncludingTheWindowEnd(t *testing.T) {
	evs := []model.Event{
		bid(1, 1, 50, 0),      // window [0,10 s): top 50, tied with the next
		bid(2, 2, 50, 9_999),  //
		bid(3, 3, 10, 5_000),  // below the top
		bid(4, 4, 50, 10_000), // window [10,20 s), alone: its top; also at the end of [0,10 s) at price 50
	}
	check(t, Q7(evs), []any{
		BidRow{1, 1, 50, 0, "x"}, BidRow{2, 2, 50, 9_999, "x"}, BidRow{4, 4, 50, 10_000, "x"}, // window [0,10)
		BidRow{4, 4, 50, 10_000, "x"}, // window [10,20)
	})
}

func TestQ8PersonsWhoSellInTheirWindow(t *testing.T) {
	evs := []model.Event{
		person(1, "a", "OR", 1_000),
		person(1, "a", "OR", 2_000), // same (id, name, window): one group
		auction(7, 1, 10, 9_999, 0), // seller 1 in [0,10 s): a row
		person(2, "b", "OR", 3_000),
		auction(8, 2, 10, 10_000, 0), // seller 2, but in [10,20 s): no row
	}
	check(t, Q8(evs), []any{Q8Row{1, "a", 0}})
}

func TestQ11SessionsMergeAtExactlyTheGap(t *testing.T) {
	evs := []model.Event{
		bid(1, 5, 1, 0),
		bid(1, 5, 1, 10_000), // exactly the gap after: same session
		bid(1, 6, 1, 12_000),
		bid(1, 5, 1, 20_001), // 10,001 ms after: a new session
	}
	check(t, Q11(evs), []any{
		Q11Row{5, 2, 0, 20_000},
		Q11Row{5, 1, 20_001, 30_001},
		Q11Row{6, 1, 12_000, 22_000},
	})
}

func TestLateEventsLeaveClosedWindows(t *testing.T) {
	// The bid at 30 s moves the watermark to 26 s; the bid at 5 s then falls in
	// [0,10 s), closed (9,999 ≤ 26,000), and is left out of q7's maxima.
	evs := []model.Event{bid(1, 1, 10, 1_000), bid(2, 2, 20, 30_000), bid(3, 3, 99, 5_000)}
	check(t, Q7(evs), []any{BidRow{1, 1, 10, 1_000, "x"}, BidRow{2, 2, 20, 30_000, "x"}})
}

func TestRunNamesUnknownQueries(t *testing.T) {
	if _, err := Run("q6", nil); err == nil {
		t.Error("Run(q6) gave no error")
	}
}
