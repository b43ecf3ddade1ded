package queries

import (
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/examples/nexmark/model"
)

// everything is the one grouping key of q7: its windows take all bids (the SQL
// groups by window only), so one task holds each window.
func everything(_ []byte, _ BidRow) int64 { return 0 }

// bidOnAuction keys a bid by its auction; the value is not needed to count.
func bidOnAuction(_ []byte, e model.Event) (int64, int64) { return e.Auction, 0 }

// q5Size and q5Slide are q5's HOP window, in milliseconds.
const q5Size, q5Slide = 10_000, 2_000

// AuctionCount is one auction's bid count in one q5 window.
type AuctionCount struct {
	Auction int64 `json:"auction"`
	Num     int64 `json:"num"`
}

// byWindow keys an auction's final count by the start of its window.
func byWindow(w streams.Windowed[int64], n int64) (int64, AuctionCount) {
	return w.Start.UnixMilli(), AuctionCount{w.Key, n}
}

// atWindowEnd stamps each count with its window's last millisecond, so that the
// counts of one window meet in one 2 s tumbling window of the next step (the
// one ending at the window's end), which their Grace keeps open while they
// arrive. Process is the DSL's only way to set a record's time.
func atWindowEnd(ctx *streams.ProcessorContext[int64, AuctionCount], start int64, c AuctionCount) error {
	ctx.ForwardAt(start, c, time.UnixMilli(start+q5Size-1))
	return nil
}

// TopAuctions is the top count of one window and the auctions that have it.
type TopAuctions struct {
	Num      int64   `json:"num"`
	Auctions []int64 `json:"auctions"`
}

func newTopAuctions() TopAuctions { return TopAuctions{} }

func addTopAuction(_ int64, c AuctionCount, t TopAuctions) TopAuctions {
	switch {
	case c.Num > t.Num:
		t.Num, t.Auctions = c.Num, append(t.Auctions[:0], c.Auction)
	case c.Num == t.Num:
		t.Auctions = append(t.Auctions, c.Auction)
	}
	return t
}

// Q5Row is a row of q5.
type Q5Row struct {
	Auction int64 `json:"auction"`
	Num     int64 `json:"num"`
}

// hottest is the SQL's join of AuctionBids with MaxBids on num >= maxn: the
// auctions with the window's top count, every tie.
func hottest(t TopAuctions) []Q5Row {
	rows := make([]Q5Row, len(t.Auctions))
	for i, a := range t.Auctions {
		rows[i] = Q5Row{a, t.Num}
	}
	return rows
}

// Q5 finds the hot items: per hopping window of 10 s every 2 s, the auctions
// with the most bids. First the count of each auction per window (final once
// the window closes), then, per window, the top count and the auctions that
// reach it.
//
//gofka:topology
func Q5(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		Filter(isBid).
		Map(bidOnAuction).
		GroupByKey(streams.Named("q5-by-auction")).
		WindowedBy(streams.HoppingWindows(10*time.Second, 2*time.Second)).
		Count(streams.RocksDBStore("q5-counts")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Map(byWindow).
		Repartition(streams.Named("q5-by-window")).
		Process(atWindowEnd).
		GroupByKey(streams.Named("q5-window-counts")).
		WindowedBy(streams.TumblingWindows(2*time.Second).Grace(10*time.Second)).
		Aggregate(newTopAuctions, addTopAuction, streams.RocksDBStore("q5-top")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		FlatMapValues(hottest).
		To("nexmark-q5")
}

// q7Window is q7's TUMBLE size, in milliseconds.
const q7Window = 10_000

// TopBids is q7's aggregate of one 10 s window: its top price, the bids at that
// price, and the bids at the window's first millisecond (which the SQL's
// BETWEEN also joins with the previous window's top price).
type TopBids struct {
	Max     int64    `json:"max"`
	Top     []BidRow `json:"top"`
	AtStart []BidRow `json:"atStart"`
}

func newTopBids() TopBids { return TopBids{} }

func addTopBid(_ int64, b BidRow, t TopBids) TopBids {
	switch {
	case len(t.Top) == 0 || b.Price > t.Max:
		t.Max, t.Top = b.Price, append(t.Top[:0], b)
	case b.Price == t.Max:
		t.Top = append(t.Top, b)
	}
	if b.DateTime%q7Window == 0 {
		t.AtStart = append(t.AtStart, b)
	}
	return t
}

// Edge is what q7 knows of one window boundary (a window's end, the next one's
// start): the top price of the window that ends there, once it closed, and the
// bids at that instant waiting for it.
type Edge struct {
	Max     int64    `json:"max"`
	Closed  bool     `json:"closed"`
	Pending []BidRow `json:"pending"`
}

// joinTopBids is the SQL's join of every bid with each window's top price on
// price = top and dateTime BETWEEN end − 10 s AND end: the window's own top
// bids, and the bids at its end instant (the next window's first millisecond)
// at its top price. Windows may close in any order, so whichever side of a
// boundary comes first waits in the store for the other, and the boundary is
// deleted once both have been seen.
func joinTopBids(ctx *streams.ProcessorContext[int64, BidRow], w streams.Windowed[int64], t TopBids, edges *streams.KeyValueStore[int64, Edge]) error {
	for _, b := range t.Top {
		ctx.Forward(b.Auction, b)
	}
	start, end := w.Start.UnixMilli(), w.End.UnixMilli()
	// The boundary at the start: the window before it closed first, or it waits for us.
	before, ok, err := edges.Get(start)
	if err != nil {
		return err
	}
	if ok && before.Closed {
		forwardAt(ctx, t.AtStart, before.Max)
		err = edges.Delete(start) // both sides of it are done
	} else {
		err = edges.Put(start, Edge{Pending: t.AtStart})
	}
	if err != nil {
		return err
	}
	// The boundary at the end: the window after it came first, or it waits.
	after, ok, err := edges.Get(end)
	if err != nil {
		return err
	}
	if ok {
		forwardAt(ctx, after.Pending, t.Max)
		return edges.Delete(end)
	}
	return edges.Put(end, Edge{Max: t.Max, Closed: true})
}

// forwardAt forwards the bids at price.
func forwardAt(ctx *streams.ProcessorContext[int64, BidRow], bids []BidRow, price int64) {
	for _, b := range bids {
		if b.Price == price {
			ctx.Forward(b.Auction, b)
		}
	}
}

// Q7 finds the highest bids: per 10 s tumbling window, every bid at the
// window's top price.
//
//gofka:topology
func Q7(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		Filter(isBid).
		MapValues(bidRow).
		GroupBy(everything).
		WindowedBy(streams.TumblingWindows(10*time.Second)).
		Aggregate(newTopBids, addTopBid, streams.RocksDBStore("q7-top")).
		Suppress(streams.UntilWindowCloses()).
		ToStream().
		Repartition(streams.Named("q7-windows")). // gofkagen's Process right after Suppress does not build yet
		Process(joinTopBids, streams.RocksDBStore("q7-edges")).
		To("nexmark-q7")
}
