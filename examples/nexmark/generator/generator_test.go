package generator

import (
	"bytes"
	"testing"

	"github.com/gofka/streams/examples/nexmark/model"
)

// The expected values below are worked out by hand from nexmark-flink's code with
// its defaults (NexmarkConfiguration: rate 10,000/s, proportions 1:3:46, hot
// ratios 2, 4, 4, 100 auctions in flight, 1,000 active people) and its table
// source's numbering (firstEventId 1, firstEventNumber 1):
//
//   - event k has number k+1 and id k+2; id % 50 picks the kind: 0 person,
//     1–3 auction, 4–49 bid. So events 0 and 1 (ids 2, 3) are auctions, events
//     2–47 bids, event 48 (id 50) a person, event 49 (id 51) an auction;
//   - timestampForEvent(n) = base + (long)(n × 100.0 µs) / 1000: events 0–8 at
//     base + 0, event 48 (number 49) at base + 4, event 49 at base + 5;
//   - auction id = lastBase0AuctionId(id) + 1000: id 2 → epoch 0, offset 2 − 1
//     person = 1 → 1001; id 3 → 1002; id 51 → epoch 1, offset 0 → 3 → 1003;
//   - person id = lastBase0PersonId(50) + 1000 = 1×1 + 0 + 1000 = 1001;
//   - a bid's auction is the hot one, lastBase0AuctionId(id)/100×100 + 1000 =
//     1000, or one of [max(2−100, 0), 2 + 1 + 10) + 1000 = 1000..1012;
//   - a bid's bidder is the hot one, lastBase0PersonId/100×100 + 1 + 1000 + 1000
//     (the suite adds FIRST_PERSON_ID twice) = 2001, or one of the active
//     people, [0, 1 + 10) + 2000 = 2000..2010;
//   - an auction's seller is the hot one, 0/100×100 + 1000 = 1000, or 1000..1010;
//     its category 10..14; its expiry ts + 1 + [0, 2 × horizon), horizon =
//     timestampForEvent(1 + 100×50/3 = 1 + 1666) − base = 166 ms;
//   - a price is round(10^(6u) × 100): 100..100,000,000;
//   - a bid's extra is 100 − 32 = 68 ± 20%: delta 14, 54..81 letters.
func TestFirstEventsFollowTheSuite(t *testing.T) {
	g := New(Default())
	base := int64(DefaultBaseTime)
	for k, want := range map[int64]int64{0: 1001, 1: 1002, 49: 1003} {
		a, ok := g.Event(k).(*model.Auction)
		if !ok {
			t.Fatalf("event %d is %T, want an auction", k, g.Event(k))
		}
		if a.ID != want {
			t.Errorf("event %d: auction id %d, want %d", k, a.ID, want)
		}
		if a.Seller < 1000 || a.Seller > 1010 || a.Category < 10 || a.Category > 14 {
			t.Errorf("event %d: seller %d, category %d", k, a.Seller, a.Category)
		}
		if a.Reserve <= a.InitialBid || a.InitialBid < 100 || a.InitialBid > 100_000_000 {
			t.Errorf("event %d: initial bid %d, reserve %d", k, a.InitialBid, a.Reserve)
		}
	}
	a0 := g.Event(0).(*model.Auction)
	if a0.DateTime != base || a0.Expires < base+1 || a0.Expires > base+332 {
		t.Errorf("event 0: dateTime %d, expires %d; want %d and within [+1, +332]", a0.DateTime, a0.Expires, base)
	}
	if a := g.Event(49).(*model.Auction); a.DateTime != base+5 {
		t.Errorf("event 49: dateTime %d, want base + 5", a.DateTime)
	}
	p, ok := g.Event(48).(*model.Person)
	if !ok || p.ID != 1001 || p.DateTime != base+4 {
		t.Fatalf("event 48 = %+v, want person 1001 at base + 4", g.Event(48))
	}
	for k := int64(2); k < 48; k++ {
		b, ok := g.Event(k).(*model.Bid)
		if !ok {
			t.Fatalf("event %d is %T, want a bid", k, g.Event(k))
		}
		if b.Auction < 1000 || b.Auction > 1012 || b.Bidder < 2000 || b.Bidder > 2010 ||
			b.Price < 100 || b.Price > 100_000_000 || len(b.Extra) < 54 || len(b.Extra) > 81 {
			t.Errorf("event %d = %+v", k, b)
		}
		if want := base + (k+1)*100/1000; b.DateTime != want {
			t.Errorf("event %d: dateTime %d, want %d", k, b.DateTime, want)
		}
	}
}

// TestProportionsAndHotKeys checks, over 100,000 events, the 1:3:46 mix and
// that about half the bids go to the hot auction and three quarters come from
// the hot bidder, as hotAuctionRatio 2 and hotBiddersRatio 4 make them.
func TestProportionsAndHotKeys(t *testing.T) {
	cfg := Default()
	g := New(cfg)
	var persons, auctions, bids, hotAuction, hotBidder int
	for k := range int64(100_000) {
		switch e := g.Event(k).(type) {
		case *model.Person:
			persons++
		case *model.Auction:
			auctions++
		case *model.Bid:
			bids++
			id := k + 2
			if e.Auction == cfg.lastBase0AuctionID(id)/100*100+FirstAuctionID {
				hotAuction++
			}
			if e.Bidder == cfg.lastBase0PersonID(id)/100*100+1+2*FirstPersonID {
				hotBidder++
			}
		}
	}
	if persons != 2000 || auctions != 6000 || bids != 92000 {
		t.Errorf("persons, auctions, bids = %d, %d, %d; want 2000, 6000, 92000", persons, auctions, bids)
	}
	// The hot share plus the random draws that land on the hot id anyway.
	if f := float64(hotAuction) / float64(bids); f < 0.49 || f > 0.56 {
		t.Errorf("share of bids on the hot auction = %.3f, want about 1/2", f)
	}
	if f := float64(hotBidder) / float64(bids); f < 0.74 || f > 0.78 {
		t.Errorf("share of bids by the hot bidder = %.3f, want about 3/4", f)
	}
}

func TestSeeded(t *testing.T) {
	write := func(cfg Config) []byte {
		var b bytes.Buffer
		if err := New(cfg).Write(&b, 500); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cfg := Default()
	a, b := write(cfg), write(cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("one configuration gave two outputs")
	}
	cfg.Seed = 2
	if bytes.Equal(a, write(cfg)) {
		t.Fatal("seeds 1 and 2 gave the same events")
	}
	cfg = Default()
	cfg.Rate = 1000 // 1 ms apart: event 48 (number 49) at base + 49
	if p := New(cfg).Event(48).(*model.Person); p.DateTime != DefaultBaseTime+49 {
		t.Errorf("at rate 1000, event 48 at %d, want base + 49", p.DateTime-DefaultBaseTime)
	}
}
