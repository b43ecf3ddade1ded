// Package groupbyaggregate groups readings by room with GroupBy (which
// repartitions) and folds them with a typed Aggregate into a JSON struct. The
// initializer and the adder are in another file of the package. The serdes of the
// repartition topic are given with streams.With.
package groupbyaggregate

import "github.com/gofka/streams"

type Reading struct {
	Room    string  `json:"room"`
	Celsius float64 `json:"celsius"`
}

//gofka:topology
func RoomStats(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.JSON[Reading]()), "readings").
		GroupBy(func(sensor string, r Reading) string { return r.Room }, streams.With(streams.String(), streams.JSON[Reading]())).
		Aggregate(newStats, addReading, streams.RocksDBStore("room-stats")).
		ToStream().
		To("room-stats")
}
