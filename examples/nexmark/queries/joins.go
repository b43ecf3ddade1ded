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
