package generator

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gofka/streams/examples/nexmark/model"
)

var (
	usStates   = strings.Split("AZ,CA,ID,OR,WA,WY", ",")
	usCities   = strings.Split("Phoenix,Los Angeles,San Francisco,Boise,Portland,Bend,Redmond,Seattle,Kent,Cheyenne", ",")
	firstNames = strings.Split("Peter,Paul,Luke,John,Saul,Vicky,Kate,Julie,Sarah,Deiter,Walter", ",")
	lastNames  = strings.Split("Shultz,Abrams,Spencer,White,Bartels,Walton,Smith,Jones,Noris", ",")
)

// reusableLen is the length of StringsGenerator's REUSABLE_EXTRA_STRING, which
// extras are cut from.
const reusableLen = 1024 * 1024

// Generator makes the events of one Config.
type Generator struct {
	cfg   Config
	extra string // the reusable extra string, from the seed
}

// New makes a generator for cfg.
func New(cfg Config) *Generator {
	r := rand.New(rand.NewPCG(cfg.Seed, math.MaxUint64))
	b := make([]byte, reusableLen)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return &Generator{cfg: cfg, extra: string(b)}
}

// Event is event k (from 0): a *model.Person, *model.Auction or *model.Bid.
func (g *Generator) Event(k int64) any {
	c := g.cfg
	number := k + 1 // firstEventNumber 1; outOfOrderGroupSize 1 leaves it as is
	id := 1 + number
	ts := c.TimestampForEvent(number)
	r := rand.New(rand.NewPCG(c.Seed, uint64(id)))
	switch rem := id % c.total(); {
	case rem < int64(c.PersonProportion):
		return g.person(id, r, ts)
	case rem < int64(c.PersonProportion+c.AuctionProportion):
		return g.auction(number, id, r, ts)
	default:
		return g.bid(id, r, ts)
	}
}

func (g *Generator) person(id int64, r *rand.Rand, ts int64) *model.Person {
	p := &model.Person{Type: model.TypePerson, ID: g.cfg.lastBase0PersonID(id) + FirstPersonID, DateTime: ts}
	p.Name = firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
	p.EmailAddress = nextString(r, 7, ' ') + "@" + nextString(r, 5, ' ') + ".com"
	var cc strings.Builder
	for i := range 4 {
		if i > 0 {
			cc.WriteByte(' ')
		}
		n := r.IntN(10000)
		cc.WriteString(string([]byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}))
	}
	p.CreditCard = cc.String()
	p.City = usCities[r.IntN(len(usCities))]
	p.State = usStates[r.IntN(len(usStates))]
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = g.nextExtra(r, size, g.cfg.AvgPersonByteSize)
	return p
}

func (g *Generator) auction(number, id int64, r *rand.Rand, ts int64) *model.Auction {
	c := g.cfg
	a := &model.Auction{Type: model.TypeAuction, ID: c.lastBase0AuctionID(id) + FirstAuctionID, DateTime: ts}
	if r.IntN(c.HotSellersRatio) > 0 {
		a.Seller = c.lastBase0PersonID(id) / hotSellerRatio * hotSellerRatio
	} else {
		a.Seller = g.nextBase0PersonID(id, r)
	}
	a.Seller += FirstPersonID
	a.Category = FirstCategoryID + int64(r.IntN(numCategories))
	a.InitialBid = nextPrice(r)
	a.Expires = ts + g.nextAuctionLengthMs(number, r, ts)
	a.ItemName = nextString(r, 20, ' ')
	a.Description = nextString(r, 100, ' ')
	a.Reserve = a.InitialBid + nextPrice(r)
	size := 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
	a.Extra = g.nextExtra(r, size, c.AvgAuctionByteSize)
	return a
}

func (g *Generator) bid(id int64, r *rand.Rand, ts int64) *model.Bid {
	c := g.cfg
	b := &model.Bid{Type: model.TypeBid, DateTime: ts}
	if r.IntN(c.HotAuctionRatio) > 0 {
		b.Auction = c.lastBase0AuctionID(id) / hotAuctionBase * hotAuctionBase
	} else {
		b.Auction = g.nextBase0AuctionID(id, r)
	}
	b.Auction += FirstAuctionID
	if r.IntN(c.HotBiddersRatio) > 0 {
		b.Bidder = c.lastBase0PersonID(id)/hotBidderBase*hotBidderBase + 1
	} else {
		b.Bidder = g.nextBase0PersonID(id, r)
	}
	b.Bidder += FirstPersonID
	b.Price = nextPrice(r)
	b.Bidder += FirstPersonID // the suite adds it twice
	b.Extra = g.nextExtra(r, 8+8+8+8, c.AvgBidByteSize)
	return b
}

// nextBase0PersonID is PersonGenerator.nextBase0PersonId: one of the active
// people, or a few ids ahead.
func (g *Generator) nextBase0PersonID(eventID int64, r *rand.Rand) int64 {
	numPeople := g.cfg.lastBase0PersonID(eventID) + 1
	active := min(numPeople, int64(g.cfg.NumActivePeople))
	return numPeople - active + nextLong(r, active+personIDLead)
}

// nextBase0AuctionID is AuctionGenerator.nextBase0AuctionId: one of the
// auctions likely in flight, or a few ahead.
func (g *Generator) nextBase0AuctionID(eventID int64, r *rand.Rand) int64 {
	maxAuction := g.cfg.lastBase0AuctionID(eventID)
	minAuction := max(maxAuction-int64(g.cfg.NumInFlightAuctions), 0)
	return minAuction + nextLong(r, maxAuction-minAuction+1+auctionIDLead)
}

// nextAuctionLengthMs is AuctionGenerator.nextAuctionLengthMs: on average the
// time until numInFlightAuctions more auctions have been made.
func (g *Generator) nextAuctionLengthMs(number int64, r *rand.Rand, ts int64) int64 {
	c := g.cfg
	eventsForAuctions := int64(c.NumInFlightAuctions) * c.total() / int64(c.AuctionProportion)
	horizon := c.TimestampForEvent(number+eventsForAuctions) - ts
	return 1 + nextLong(r, max(horizon*2, 1))
}

// nextLong is LongGenerator.nextLong: a long in [0, n).
func nextLong(r *rand.Rand, n int64) int64 { return r.Int64N(n) }

// nextPrice is PriceGenerator.nextPrice: Math.round(10^(u*6) * 100).
func nextPrice(r *rand.Rand) int64 {
	return int64(math.Floor(math.Pow(10, r.Float64()*6)*100 + 0.5))
}

// nextString is StringsGenerator.nextString: 3 to maxLength-1 letters, about one
// in 13 the special character, trimmed of spaces at both ends.
func nextString(r *rand.Rand, maxLength int, special byte) string {
	n := minStringLen + r.IntN(maxLength-minStringLen)
	b := make([]byte, n)
	for i := range b {
		if r.IntN(13) == 0 {
			b[i] = special
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return strings.Trim(string(b), " ")
}

// nextExtra is StringsGenerator.nextExtra: padding so that an event's size is on
// average desired bytes (±20%), cut from the reusable string.
func (g *Generator) nextExtra(r *rand.Rand, current, desired int) string {
	if current > desired {
		return ""
	}
	desired -= current
	delta := int(math.Floor(float64(desired)*0.2 + 0.5))
	size := desired - delta
	if delta != 0 {
		size += r.IntN(2 * delta)
	}
	off := r.IntN(len(g.extra) - size)
	return g.extra[off : off+size]
}
