package serde

import "github.com/gofka/streams"

// Records passes both records through topics, so that gofkagen generates their
// JSON serdes (gofkaJSONClick, gofkaJSONBid).
//
//gofka:topology
func Records(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks").To("clicks-out")
	b.Stream(streams.With(streams.String(), streams.JSON[Bid]()), "bids").To("bids-out")
}
