// Package queries holds the Nexmark queries written in the Gofka DSL, one
// //gofka:topology function each (go generate writes gofka_gen.go, with a
// Compiled<Q> function per query), following the suite's SQL
// (nexmark-flink/src/main/resources/queries) with Flink SQL's semantics.
//
//	topic nexmark-events (JSON lines of nexmark gen, no key)
//	  │ event time = dateTime; watermark = dateTime − 4 s
//	  ├─ Q0  bids ─▶ nexmark-q0                          pass-through
//	  ├─ Q1  bids ─▶ price × 0.908 ─▶ nexmark-q1          currency conversion
//	  ├─ Q2  bids on auction % 123 = 0 ─▶ nexmark-q2      selection
//	  ├─ Q3  persons in OR/ID/CA by id ⋈ auctions in category 10 by seller (a year either way) ─▶ nexmark-q3
//	  ├─ Q4  auctions ⋈ bids by auction (1 min) ─▶ BETWEEN ─▶ max per auction (table) ─▶ GroupBy category: sum, count ─▶ avg ─▶ nexmark-q4 (updates)
//	  ├─ Q5  bids ─▶ hopping 10 s / 2 s: count per auction ─▶ final ─▶ top auctions (ties) ─▶ nexmark-q5
//	  ├─ Q7  bids ─▶ tumbling 10 s: top price and its bids ─▶ final ═▶ join with the boundary bids ─▶ nexmark-q7
//	  ├─ Q8  persons per id, sellers per seller, tumbling 10 s ─▶ finals ⋈ by id (10 s) ─▶ same window ─▶ nexmark-q8
//	  └─ Q11 bids ═▶ by bidder ─▶ sessions (gap 10 s) in a processor, closed by event-time timers ─▶ nexmark-q11
//
// Every sink's value is the SQL sink's row as JSON (its column names, times in
// epoch ms), except q4's, whose sink gets every update of a category's
// average (a nil value deletes it): its final rows are the last of each key.
// The join queries (q3, q4, q8) are in joins.go; ⋈ is a stream-stream join
// (its JoinWindows in parentheses).
package queries

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"time"

	"github.com/gofka/streams"
	"github.com/gofka/streams/examples/nexmark/model"
)

// EventsTopic is the topic every query reads: the generator's JSON lines as
// record values, with no key.
const EventsTopic = "nexmark-events"

// events is the source every query starts from: event time = dateTime, and the
// suite's watermark, dateTime − 4 s (no idle timeout: one partition).
//
// gofkagen needs each source written in place, so every topology repeats
//
//	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events")

// eventTime is an event's event time, its dateTime.
func eventTime(_ []byte, e model.Event) time.Time { return time.UnixMilli(e.DateTime) }

func isBid(_ []byte, e model.Event) bool { return e.Type == model.TypeBid }

// BidRow is a row of q0 and q7 (the sink's columns).
type BidRow struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

func bidRow(e model.Event) BidRow { return BidRow{e.Auction, e.Bidder, e.Price, e.DateTime, e.Extra} }

// Q0 passes every bid through.
//
//gofka:topology
func Q0(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		Filter(isBid).
		MapValues(bidRow).
		To("nexmark-q0")
}

// Q1Row is a row of q1: the price in euros.
type Q1Row struct {
	Auction  int64   `json:"auction"`
	Bidder   int64   `json:"bidder"`
	Price    float64 `json:"price"`
	DateTime int64   `json:"dateTime"`
	Extra    string  `json:"extra"`
}

// inEuros is 0.908 * price: exact in thousandths, then the nearest float64, so
// the JSON shows the suite's DECIMAL(23, 3) (102 → 92.616).
func inEuros(e model.Event) Q1Row {
	return Q1Row{e.Auction, e.Bidder, float64(e.Price*908) / 1000, e.DateTime, e.Extra}
}

// Q1 converts each bid's price from dollars to euros.
//
//gofka:topology
func Q1(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		Filter(isBid).
		MapValues(inEuros).
		To("nexmark-q1")
}

// Q2Row is a row of q2.
type Q2Row struct {
	Auction int64 `json:"auction"`
	Price   int64 `json:"price"`
}

func onChosenAuction(_ []byte, e model.Event) bool {
	return e.Type == model.TypeBid && e.Auction%123 == 0
}

func q2Row(e model.Event) Q2Row { return Q2Row{e.Auction, e.Price} }

// Q2 keeps the bids on auctions whose id is a multiple of 123.
//
//gofka:topology
func Q2(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		Filter(onChosenAuction).
		MapValues(q2Row).
		To("nexmark-q2")
}

// Q11Row is a row of q11: a bidder's session and its bid count.
type Q11Row struct {
	Bidder    int64 `json:"bidder"`
	BidCount  int64 `json:"bid_count"`
	StartTime int64 `json:"starttime"`
	EndTime   int64 `json:"endtime"`
}

// bidderOrID keys a bid by its bidder, and a person or an auction by its id, so
// that they spread over the partitions and move stream time on each.
func bidderOrID(_ []byte, e model.Event) int64 {
	if e.Type == model.TypeBid {
		return e.Bidder
	}
	return e.ID
}

// sessionGap is q11's SESSION gap.
const sessionGap = 10 * time.Second

// Session is one bidder's open session in q11's store.
type Session struct {
	Start int64 `json:"start"` // first bid, epoch ms
	Last  int64 `json:"last"`  // last bid, epoch ms
	Count int64 `json:"count"`
}

// closesAt is when the watermark (stream time − 4 s) passes the session's end,
// last + gap: then no bid can join it any more.
func (s Session) closesAt() time.Time {
	return time.UnixMilli(s.Last).Add(sessionGap + 4*time.Second)
}

func (s Session) row(bidder int64) Q11Row {
	return Q11Row{bidder, s.Count, s.Start, s.Last + sessionGap.Milliseconds()}
}

// BidTime is what q11's processor needs of an event, and all that crosses the
// repartition: whether it is a bid, and its time.
type BidTime struct {
	Bid      bool  `json:"bid"`
	DateTime int64 `json:"dateTime"`
}

func bidTime(e model.Event) BidTime { return BidTime{e.Type == model.TypeBid, e.DateTime} }

// trackSession adds a bid to its bidder's session: a bid no more than the gap
// after the last one (exactly the gap included) extends it; a later one ends it,
// and starts the next. A bid whose own session [t, t+gap) the watermark has
// passed is late and dropped, as Flink drops it.
//
// It sees every event, not only bids, so that its stream time, which closes
// sessions, follows the whole input as the suite's watermark does.
func trackSession(ctx *streams.ProcessorContext[int64, Q11Row], bidder int64, e BidTime, open *streams.KeyValueStore[int64, Session]) error {
	if !e.Bid {
		return nil
	}
	t := e.DateTime
	if t+sessionGap.Milliseconds()-1 <= ctx.StreamTime().UnixMilli()-4000 {
		return nil
	}
	s, ok, err := open.Get(bidder)
	if err != nil {
		return err
	}
	if ok && t >= s.Start-sessionGap.Milliseconds() && t <= s.Last+sessionGap.Milliseconds() {
		if err := ctx.DeleteEventTimeTimer(s.closesAt()); err != nil {
			return err
		}
		s.Start, s.Last, s.Count = min(s.Start, t), max(s.Last, t), s.Count+1
	} else {
		if ok { // the open session can no longer grow: it is final
			if err := ctx.DeleteEventTimeTimer(s.closesAt()); err != nil {
				return err
			}
			ctx.Forward(bidder, s.row(bidder))
		}
		s = Session{Start: t, Last: t, Count: 1}
	}
	if err := ctx.RegisterEventTimeTimer(s.closesAt()); err != nil {
		return err
	}
	return open.Put(bidder, s)
}

// sessionClosed writes a session out once the watermark has passed its end.
func sessionClosed(ctx *streams.ProcessorContext[int64, Q11Row], timer streams.Timer[int64], open *streams.KeyValueStore[int64, Session]) error {
	s, ok, err := open.Get(timer.Key)
	if err != nil || !ok {
		return err
	}
	ctx.Forward(timer.Key, s.row(timer.Key))
	return open.Delete(timer.Key)
}

// Q11 counts each bidder's bids per session (10 s of inactivity ends one), one
// final row per session. Suppress does not take session windows yet, so a
// processor keeps each bidder's open session and an event-time timer closes it.
// Every event goes through the repartition (persons and auctions under their
// ids) so that stream time downstream follows all of them.
//
//gofka:topology
func Q11(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.Bytes(), streams.JSON[model.Event]()).WithTimestamp(eventTime).WithWatermark(4*time.Second, 0), "nexmark-events").
		SelectKey(bidderOrID).
		MapValues(bidTime).
		Repartition(streams.Named("q11-by-bidder")).
		Process(streams.Processor(trackSession).OnTimer(sessionClosed), streams.RocksDBStore("q11-sessions")).
		To("nexmark-q11")
}
