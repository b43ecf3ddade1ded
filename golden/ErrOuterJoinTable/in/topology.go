// Package errouterjointable outer-joins a stream with a table, which Kafka
// Streams does not offer either: OuterJoin takes a *KStream, and Go's type
// checker says so.
package errouterjointable

import (
	"time"

	"github.com/gofka/streams"
)

func pair(a, b *string) string { return *a + *b }

//gofka:topology
func ErrOuterJoinTable(b *streams.StreamsBuilder) {
	views := b.Stream(streams.With(streams.String(), streams.String()), "views")
	users := b.Table(streams.With(streams.String(), streams.String()), "users", streams.RocksDBStore("users"))
	views.OuterJoin(users, pair, streams.JoinWindowsOf(time.Second)).To("pairs")
}
