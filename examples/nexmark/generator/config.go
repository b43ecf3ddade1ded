// Package generator makes Nexmark events as the community suite's nexmark-flink
// generator does (NexmarkConfiguration, GeneratorConfig and the Person, Auction,
// Bid, Price and Strings generators): the same defaults, proportions, id
// arithmetic, hot sellers, bidders and auctions, prices, auction lengths, string
// lengths and event times. The random draws differ: the suite draws from an
// unseeded SplittableRandom, so its events change from run to run; here each event
// draws from its own PCG generator seeded with (seed, event id), so one
// configuration always gives the same events, byte for byte, and event i does not
// depend on the events before it.
//
//	Config ──event number k──▶ event id, time ──kind by id % 50──▶ Person | Auction | Bid ──▶ JSON line
//
// Event k (counted from 0) has event number k+1 and id k+2, as the suite's table
// source numbers them (GeneratorConfig(conf, now, firstEventId 1, ..., firstEventNumber 1)),
// so the first events are two auctions (1001, 1002), 46 bids, then person 1001.
//
// One thing is kept that looks like a slip in the suite: BidGenerator adds
// FIRST_PERSON_ID to the bidder twice, so bidders are person ids + 1000.
// Bids carry no channel and url (the queries built here do not read them).
package generator

// The suite's constants (GeneratorConfig, AuctionGenerator, BidGenerator, PersonGenerator).
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10

	numCategories  = 5
	auctionIDLead  = 10
	personIDLead   = 10
	hotSellerRatio = 100 // a hot seller is the first person of the last 100
	hotAuctionBase = 100 // a hot auction is the first of the last 100 auctions
	hotBidderBase  = 100 // a hot bidder is the second person of the last 100
	minStringLen   = 3

	// DefaultBaseTime is the time of the first event, 2015-07-15T00:00:00Z (the
	// suite uses the wall clock when the job starts; a constant keeps runs equal).
	DefaultBaseTime = 1436918400000
)

// Config is the part of the suite's NexmarkConfiguration the generator uses,
// with its defaults from Default.
type Config struct {
	Seed     uint64
	BaseTime int64 // epoch ms of event number 0
	Rate     int   // firstEventRate: events per second of event time

	PersonProportion, AuctionProportion, BidProportion int

	AvgPersonByteSize, AvgAuctionByteSize, AvgBidByteSize int

	HotAuctionRatio, HotSellersRatio, HotBiddersRatio int

	NumInFlightAuctions int
	NumActivePeople     int
}

// Default is NexmarkConfiguration's defaults, with seed 1 and DefaultBaseTime.
func Default() Config {
	return Config{
		Seed: 1, BaseTime: DefaultBaseTime, Rate: 10_000,
		PersonProportion: 1, AuctionProportion: 3, BidProportion: 46,
		AvgPersonByteSize: 200, AvgAuctionByteSize: 500, AvgBidByteSize: 100,
		HotAuctionRatio: 2, HotSellersRatio: 4, HotBiddersRatio: 4,
		NumInFlightAuctions: 100, NumActivePeople: 1000,
	}
}

func (c Config) total() int64 {
	return int64(c.PersonProportion + c.AuctionProportion + c.BidProportion)
}

// interEventDelayUs is GeneratorConfig's delay between events, in microseconds
// (one generator).
func (c Config) interEventDelayUs() float64 { return 1_000_000.0 / float64(c.Rate) }

// TimestampForEvent is GeneratorConfig.timestampForEvent: the event time of
// event number n, baseTime + (long)(n * delayUs) / 1000.
func (c Config) TimestampForEvent(n int64) int64 {
	return c.BaseTime + int64(float64(n)*c.interEventDelayUs())/1000
}

// lastBase0PersonID is PersonGenerator.lastBase0PersonId: the last person id
// (from 0) generated at or before event id.
func (c Config) lastBase0PersonID(eventID int64) int64 {
	epoch, offset := eventID/c.total(), eventID%c.total()
	if offset >= int64(c.PersonProportion) {
		offset = int64(c.PersonProportion) - 1
	}
	return epoch*int64(c.PersonProportion) + offset
}

// lastBase0AuctionID is AuctionGenerator.lastBase0AuctionId.
func (c Config) lastBase0AuctionID(eventID int64) int64 {
	epoch, offset := eventID/c.total(), eventID%c.total()
	switch {
	case offset < int64(c.PersonProportion): // a person: the last auction of the previous epoch
		epoch--
		offset = int64(c.AuctionProportion) - 1
	case offset >= int64(c.PersonProportion+c.AuctionProportion): // a bid: the last auction of this epoch
		offset = int64(c.AuctionProportion) - 1
	default:
		offset -= int64(c.PersonProportion)
	}
	return epoch*int64(c.AuctionProportion) + offset
}
