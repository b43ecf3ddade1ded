// Package seedform is the click-count topology exactly as the seed document writes
// it, on []byte keys and values. A click's value is "user,url"; a bot's user name
// starts with "bot:". Counts are 8-byte big-endian integers.
package seedform

//go:generate go run github.com/gofka/streams/cmd/gofkagen

import (
	"bytes"
	"encoding/binary"

	"github.com/gofka/streams"
	. "github.com/gofka/streams"
)

var botPrefix = []byte("bot:")

func isRealClick(key, value []byte) bool { return !bytes.HasPrefix(value, botPrefix) }

// extractUserInfo keys the click by its user.
func extractUserInfo(key, value []byte) ([]byte, []byte) {
	user, _, _ := bytes.Cut(value, []byte{','})
	return user, value
}

func initCounter() []byte { return make([]byte, 8) }

// incrementCounter adds one to the count in place: no allocation per record.
func incrementCounter(agg, value []byte) []byte {
	binary.BigEndian.PutUint64(agg, binary.BigEndian.Uint64(agg)+1)
	return agg
}

// ClickCount is the seed document's example usage, unchanged.
//
//gofka:topology
func ClickCount() (*streams.Topology, error) {
	builder := NewBuilder()
	builder.From("user-clicks").
		Filter(isRealClick).
		Map(extractUserInfo).
		GroupByKey().
		Aggregate(initCounter, incrementCounter, RocksDBStore("click-counts")).
		To("user-click-counts")
	topology, _ := builder.Build()
	return topology, nil
}
