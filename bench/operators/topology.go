package operators

//go:generate go tool gofkagen

import (
	"bytes"
	"encoding/binary"

	"github.com/gofka/streams"
)

// ClickCount is the seed document's topology, in the seed's []byte API, exactly as
// in the package documentation of github.com/gofka/streams. gofkagen compiles it
// into CompiledClickCount in gofka_gen.go.
//
//gofka:topology
func ClickCount() (*streams.Topology, error) {
	builder := streams.NewBuilder()
	builder.From("user-clicks").
		Filter(isRealClick).
		Map(extractUserInfo).
		GroupByKey().
		Aggregate(initCounter, incrementCounter, streams.RocksDBStore("click-counts")).
		To("user-click-counts")
	return builder.Build()
}

// The user functions below are shared by all three implementations. None of them
// allocates in steady state: initCounter allocates once per new user, the others
// only slice or modify their arguments.

// botPrefix marks a click by a crawler: the value starts with "bot:".
var botPrefix = []byte("bot:")

// isRealClick keeps the clicks of people: values that do not start with "bot:".
func isRealClick(key, value []byte) bool {
	return !bytes.HasPrefix(value, botPrefix)
}

// extractUserInfo rekeys a click "user,/path" by its user: the new key is "user"
// and the new value "/path", both slices of value. A value without a comma is
// keyed by itself.
func extractUserInfo(key, value []byte) ([]byte, []byte) {
	i := bytes.IndexByte(value, ',')
	if i < 0 {
		return value, nil
	}
	return value[:i], value[i+1:]
}

// initCounter is a zero count: 8 bytes, big-endian, like Kafka's Long serde.
func initCounter() []byte {
	return make([]byte, 8)
}

// incrementCounter adds one to the count agg in place and returns it.
func incrementCounter(agg, value []byte) []byte {
	binary.BigEndian.PutUint64(agg, binary.BigEndian.Uint64(agg)+1)
	return agg
}
