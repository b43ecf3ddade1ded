// Package seedclickcount is the seed document's click count, in the seed API of
// []byte keys and values: From, Filter, Map, GroupByKey (which repartitions, since
// Map may change the key), Aggregate into a RocksDB store, and To.
package seedclickcount

import (
	"bytes"
	"encoding/binary"

	"github.com/gofka/streams"
)

// isRealClick drops clicks by bots, whose value starts with "bot:".
func isRealClick(key, value []byte) bool { return !bytes.HasPrefix(value, []byte("bot:")) }

// extractUserInfo turns "user,url" into key user and value url.
func extractUserInfo(key, value []byte) ([]byte, []byte) {
	i := bytes.IndexByte(value, ',')
	if i < 0 {
		return value, nil
	}
	return value[:i], value[i+1:]
}

func initCounter() []byte { return make([]byte, 8) }

// incrementCounter adds one to the big-endian count in agg, in place.
func incrementCounter(agg, value []byte) []byte {
	binary.BigEndian.PutUint64(agg, binary.BigEndian.Uint64(agg)+1)
	return agg
}

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
