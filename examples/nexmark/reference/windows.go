package reference

import (
	"slices"

	"github.com/gofka/streams/examples/nexmark/model"
)

// window is a time window [start, end).
type window struct{ start, end int64 }

// lateness tracks the watermark over the input, in arrival order.
type lateness struct {
	maxSeen int64
	seen    bool
}

// late says whether a window ending at end is closed when e arrives: its last
// millisecond is at or before the watermark.
func (l *lateness) late(e model.Event, end int64) bool {
	return l.seen && end-1 <= l.maxSeen-WatermarkDelay
}

// observe moves the watermark past e.
func (l *lateness) observe(e model.Event) {
	if !l.seen || e.DateTime > l.maxSeen {
		l.maxSeen, l.seen = e.DateTime, true
	}
}

// floorDiv rounds a/b down (times before the epoch stay in the right window).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// hopping lists the windows of size every slide that hold ts.
func hopping(ts, size, slide int64) []window {
	var out []window
	for s := floorDiv(ts, slide) * slide; s > ts-size; s -= slide {
		out = append(out, window{s, s + size})
	}
	return out
}

// Q5 counts the bids per auction in hopping windows of 10 s every 2 s, and keeps
// in each window the auctions with the top count (all ties).
func Q5(events []model.Event) []any {
	counts := map[window]map[int64]int64{}
	var l lateness
	for _, e := range events {
		if e.Type == model.TypeBid {
			for _, w := range hopping(e.DateTime, 10_000, 2_000) {
				if l.late(e, w.end) {
					continue
				}
				if counts[w] == nil {
					counts[w] = map[int64]int64{}
				}
				counts[w][e.Auction]++
			}
		}
		l.observe(e)
	}
	var rows []any
	for _, w := range sortedWindows(counts) {
		top := int64(0)
		for _, n := range counts[w] {
			top = max(top, n)
		}
		for _, a := range sortedKeys(counts[w]) {
			if counts[w][a] >= top {
				rows = append(rows, Q5Row{a, counts[w][a]})
			}
		}
	}
	return rows
}

// Q7 finds the top price of each 10 s tumbling window and joins it back to every
// bid at that price whose dateTime is between the window's end − 10 s and its end,
// both inclusive (a regular join over all bids, as the SQL writes it).
func Q7(events []model.Event) []any {
	top := map[window]int64{}
	var l lateness
	for _, e := range events {
		if e.Type == model.TypeBid {
			s := floorDiv(e.DateTime, 10_000) * 10_000
			w := window{s, s + 10_000}
			if !l.late(e, w.end) {
				if p, ok := top[w]; !ok || e.Price > p {
					top[w] = e.Price
				}
			}
		}
		l.observe(e)
	}
	byPrice := map[int64][]model.Event{}
	for _, b := range bids(events) {
		byPrice[b.Price] = append(byPrice[b.Price], b)
	}
	var rows []any
	for _, w := range sortedWindows(top) {
		for _, b := range byPrice[top[w]] {
			if b.DateTime >= w.end-10_000 && b.DateTime <= w.end {
				rows = append(rows, BidRow{b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra})
			}
		}
	}
	return rows
}

// Q8 lists the people who opened an auction in the 10 s tumbling window they
// registered in: the distinct (id, name, window start) of persons joined with the
// distinct (seller, window) of auctions.
func Q8(events []model.Event) []any {
	type person struct {
		id    int64
		name  string
		start int64
	}
	type seller struct{ id, start int64 }
	var persons []person
	seenPerson := map[person]bool{}
	sellers := map[seller]bool{}
	var l lateness
	for _, e := range events {
		s := floorDiv(e.DateTime, 10_000) * 10_000
		if (e.Type == model.TypePerson || e.Type == model.TypeAuction) && !l.late(e, s+10_000) {
			if e.Type == model.TypePerson {
				p := person{e.ID, e.Name, s}
				if !seenPerson[p] {
					seenPerson[p] = true
					persons = append(persons, p)
				}
			} else {
				sellers[seller{e.Seller, s}] = true
			}
		}
		l.observe(e)
	}
	var rows []any
	for _, p := range persons {
		if sellers[seller{p.id, p.start}] {
			rows = append(rows, Q8Row{p.id, p.name, p.start})
		}
	}
	return rows
}

// Q11 counts each bidder's bids per session: a session is the bids of one bidder
// no more than 10 s apart, from the first bid to the last + 10 s.
func Q11(events []model.Event) []any {
	const gap = 10_000
	times := map[int64][]int64{}
	var bidders []int64
	var l lateness
	for _, e := range events {
		// A bid alone is the session [t, t+gap); it is late if that is closed.
		if e.Type == model.TypeBid && !l.late(e, e.DateTime+gap) {
			if times[e.Bidder] == nil {
				bidders = append(bidders, e.Bidder)
			}
			times[e.Bidder] = append(times[e.Bidder], e.DateTime)
		}
		l.observe(e)
	}
	var rows []any
	for _, b := range bidders {
		ts := times[b]
		slices.Sort(ts)
		first, n := ts[0], int64(1)
		for i := 1; i <= len(ts); i++ {
			if i < len(ts) && ts[i]-ts[i-1] <= gap {
				n++
				continue
			}
			rows = append(rows, Q11Row{b, n, first, ts[i-1] + gap})
			if i < len(ts) {
				first, n = ts[i], 1
			}
		}
	}
	return rows
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys(m map[int64]int64) []int64 {
	ks := mapKeys(m)
	slices.Sort(ks)
	return ks
}

func sortedWindows[V any](m map[window]V) []window {
	ws := mapKeys(m)
	slices.SortFunc(ws, func(a, b window) int {
		if a.start != b.start {
			return int(a.start - b.start)
		}
		return int(a.end - b.end)
	})
	return ws
}
