package queries

import (
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/examples/nexmark/model"
)

func isPerson(_ []byte, e model.Event) bool  { return e.Type == model.TypePerson }
func isAuction(_ []byte, e model.Event) bool { return e.Type == model.TypeAuction }

// Q8Row is a row of q8: a person who opened an auction in the window they
// registered in, and that window's start.
type Q8Row struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	STime int64  `json:"stime"`
}

// personName keys a person by id; q8 keeps only the name.
func personName(_ []byte, e model.Event) (int64, string) { return e.ID, e.Name }

// firstName keeps one name per person and window: the SQL's GROUP BY id, name
// over persons whose ids are unique.
func firstName(agg, _ string) string { return agg }

// personWindow is a person's final row in its window.
func personWindow(w streams.Windowed[int64], name string) (int64, Q8Row) {
	return w.Key, Q8Row{w.Key, name, w.Start.UnixMilli()}
}

// auctionSeller keys an auction by its seller; counting needs no value.
func auctionSeller(_ []byte, e model.Event) (int64, int64) { return e.Seller, 0 }

// sellerWindow is the start of a window in which the seller opened an auction.
func sellerWindow(w streams.Windowed[int64], _ int64) (int64, int64) {
	return w.Key, w.Start.UnixMilli()
}

// Q8Match is a person's window joined with a window of the same seller; the
// SQL joins only the same window.
type Q8Match struct {
	Row  Q8Row `json:"row"`
	Same bool  `json:"same"`
}

func matchWindows(p Q8Row, sellerStart int64) Q8Match {
	return Q8Match{p, p.STime == sellerStart}
}

func sameWindow(_ int64, m Q8Match) bool { return m.Same }

func q8Row(m Q8Match) Q8Row { return m.Row }

// Q8 lists the people who opened an auction in the 10 s tumbling window they
// registered in. Both sides are made final per window first, as the SQL's two
// GROUP BY subqueries are (the same lateness for both: a window's record is
// dropped once the watermark has passed its end): the persons per id and
// window (Reduce), the sellers per window (Count). Each final is stamped with a
// time in its window, so JoinWindowsOf(10 s) pairs every window with its
// neighbours and the Filter keeps the same window. The finals of both sides
// may reach the join several windows apart (a watermark step closes many), so
// the join's grace keeps a minute of them buffered.
//
//gofka:topology
func Q8(b *streams.StreamsBuilder) {
	events := b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events")
	persons := events.Filter(isPerson).
		Map(personName).
		GroupByKey(streams.Named("q8-persons-by-id")).
		WindowedBy(streams.TumblingWindows(10*time.Second)).
		Reduce(firstName, streams.RocksDBStore("q8-persons")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Map(personWindow)
	sellers := events.Filter(isAuction).
		Map(auctionSeller).
		GroupByKey(streams.Named("q8-auctions-by-seller")).
		WindowedBy(streams.TumblingWindows(10 * time.Second)).
		Count(streams.RocksDBStore("q8-sellers")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Map(sellerWindow)
	persons.Join(sellers, matchWindows, streams.JoinWindowsOf(10*time.Second).Grace(time.Minute), streams.Named("q8-join")).
		Filter(sameWindow).
		MapValues(q8Row).
		To("nexmark-q8")
}

// AuctionSpan is what q4 needs of an auction: when it is open, and its category.
type AuctionSpan struct {
	DateTime int64 `json:"dateTime"`
	Expires  int64 `json:"expires"`
	Category int64 `json:"category"`
}

func auctionSpan(_ []byte, e model.Event) (int64, AuctionSpan) {
	return e.ID, AuctionSpan{e.DateTime, e.Expires, e.Category}
}

// BidPrice is what q4 needs of a bid.
type BidPrice struct {
	DateTime int64 `json:"dateTime"`
	Price    int64 `json:"price"`
}

func bidPrice(_ []byte, e model.Event) (int64, BidPrice) {
	return e.Auction, BidPrice{e.DateTime, e.Price}
}

// ClosingBid is a bid joined with its auction: its price, the auction's
// category, and whether the bid was made while the auction was open.
type ClosingBid struct {
	Category int64 `json:"category"`
	Price    int64 `json:"price"`
	Open     bool  `json:"open"`
}

// closingBid is the SQL's join on a.id = b.auction with b.dateTime BETWEEN
// a.dateTime AND a.expires (inclusive at both ends).
func closingBid(a AuctionSpan, b BidPrice) ClosingBid {
	return ClosingBid{a.Category, b.Price, b.DateTime >= a.DateTime && b.DateTime <= a.Expires}
}

func whileOpen(_ int64, c ClosingBid) bool { return c.Open }

// Winning is an auction's top price so far among its bids while open.
type Winning struct {
	Category int64 `json:"category"`
	Price    int64 `json:"price"`
	Any      bool  `json:"any"`
}

func newWinning() Winning { return Winning{} }

func raiseWinning(_ int64, c ClosingBid, w Winning) Winning {
	if !w.Any || c.Price > w.Price {
		w.Price = c.Price
	}
	w.Category, w.Any = c.Category, true
	return w
}

func winningByCategory(_ int64, w Winning) (int64, int64) { return w.Category, w.Price }

// PriceSum is the sum and number of the winning prices of one category.
type PriceSum struct {
	Sum int64 `json:"sum"`
	N   int64 `json:"n"`
}

func newPriceSum() PriceSum { return PriceSum{} }

func addPrice(_ int64, price int64, s PriceSum) PriceSum { return PriceSum{s.Sum + price, s.N + 1} }

func subtractPrice(_ int64, price int64, s PriceSum) PriceSum {
	return PriceSum{s.Sum - price, s.N - 1}
}

// hasPrices drops a category between the subtraction of an auction's old top
// price and the addition of its new one, when it has no auction left.
func hasPrices(_ int64, s PriceSum) bool { return s.N > 0 }

// Q4Row is a row of q4: a category and the average winning price in it.
type Q4Row struct {
	ID    int64 `json:"id"`
	Final int64 `json:"final"`
}

// average is the SQL's AVG over BIGINT: a BIGINT, the quotient truncated.
func average(category int64, s PriceSum) Q4Row { return Q4Row{category, s.Sum / s.N} }

// q4MaxAuction bounds how long an auction stays open, so how long after an
// auction its bids can come: the generator's auctions last at most twice the
// time it takes to make 100 × 50 / 3 events (3.3 s at 1,000 events/s, 16.7 s
// at 200/s), so a minute covers every rate from 56 events/s up.
const q4MaxAuction = time.Minute

// Q4 averages, per category, the winning price of its auctions. The SQL's
// regular join of auctions with bids becomes a stream-stream join on the
// auction id over the longest time an auction stays open (a bid before its
// auction cannot be BETWEEN), and a Filter on BETWEEN. The max per auction is
// a table (Aggregate); re-keyed by category with the table GroupBy, its
// Aggregate adds each new top price and subtracts the one it replaces, so the
// sum and count are of the current maxima; MapValues divides. The sink gets
// every update of a category: its final row is the last one.
//
//gofka:topology
func Q4(b *streams.StreamsBuilder) {
	events := b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events")
	auctions := events.Filter(isAuction).Map(auctionSpan)
	bids := events.Filter(isBid).Map(bidPrice)
	auctions.Join(bids, closingBid, streams.JoinWindows(0, q4MaxAuction), streams.Named("q4-join")).
		Filter(whileOpen).
		GroupByKey(streams.Named("q4-by-auction")).
		Aggregate(newWinning, raiseWinning, streams.RocksDBStore("q4-winning")).
		GroupBy(winningByCategory).
		Aggregate(newPriceSum, addPrice, subtractPrice, streams.RocksDBStore("q4-sums")).
		Filter(hasPrices).
		MapValues(average).
		ToStream().
		To("nexmark-q4")
}

// Q3Row is a row of q3: a seller in OR, ID or CA and one of their auctions in
// category 10.
type Q3Row struct {
	Name  string `json:"name"`
	City  string `json:"city"`
	State string `json:"state"`
	ID    int64  `json:"id"`
}

// PersonPlace is what q3 needs of a person.
type PersonPlace struct {
	Name  string `json:"name"`
	City  string `json:"city"`
	State string `json:"state"`
}

func inQ3States(_ []byte, e model.Event) bool {
	return e.Type == model.TypePerson && (e.State == "OR" || e.State == "ID" || e.State == "CA")
}

func personPlace(_ []byte, e model.Event) (int64, PersonPlace) {
	return e.ID, PersonPlace{e.Name, e.City, e.State}
}

func inCategory10(_ []byte, e model.Event) bool {
	return e.Type == model.TypeAuction && e.Category == 10
}

// auctionOfSeller keys an auction's id by its seller.
func auctionOfSeller(_ []byte, e model.Event) (int64, int64) { return e.Seller, e.ID }

func q3Row(p PersonPlace, auction int64) Q3Row { return Q3Row{p.Name, p.City, p.State, auction} }

// q3Horizon is how far apart in event time a person and an auction may be and
// still join: longer than any input q3 is run on, so the join is the SQL's
// regular join for it.
const q3Horizon = 365 * 24 * time.Hour

// Q3 joins auctions in category 10 with their sellers in OR, ID or CA: one row
// per (auction, person) pair, whichever of the two came first.
//
// The SQL's join is a regular one: both sides kept for ever. It is written as a
// stream-stream join on seller = id over a year either way, which keeps both
// sides (the join's buffers) for the whole of any input shorter than that and
// emits each pair once, when the second of the two arrives. A table-table join
// was the other way (persons ToTable by id, auctions aggregated per seller into
// a list), but it emits the seller's whole list again on each change, so each
// pair would be written many times; the rows would need a processor to
// remember which pairs were out already.
//
//gofka:topology
func Q3(b *streams.StreamsBuilder) {
	events := b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events")
	persons := events.Filter(inQ3States).Map(personPlace)
	auctions := events.Filter(inCategory10).Map(auctionOfSeller)
	persons.Join(auctions, q3Row, streams.JoinWindowsOf(q3Horizon), streams.Named("q3-join")).
		To("nexmark-q3")
}
