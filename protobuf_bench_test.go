package streams_test

import (
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gofka/streams"
	"github.com/gofka/streams/internal/testproto"
)

// BenchmarkProtobuf measures the Protobuf serde on the click record and a Nexmark
// Bid with the values of the Avro benchmarks, for comparison with them.
func BenchmarkProtobuf(b *testing.B) {
	c := benchClickValue
	click := &testproto.Click{User: c.User, Url: c.URL, Bot: c.Bot}
	v := benchBidValue
	bid := &testproto.Bid{Auction: v.Auction, Bidder: v.Bidder, Price: v.Price, Channel: v.Channel,
		Url: v.URL, DateTime: timestamppb.New(v.DateTime), Extra: v.Extra}
	b.Run("click", func(b *testing.B) {
		benchSerde(b, streams.Serde[*testproto.Click](streams.Protobuf[*testproto.Click]()), click)
	})
	b.Run("bid", func(b *testing.B) {
		benchSerde(b, streams.Serde[*testproto.Bid](streams.Protobuf[*testproto.Bid]()), bid)
	})
}
