// Package explicitrepartition re-keys payments with Map and repartitions them
// explicitly, under a name given with streams.Named; the GroupByKey after it needs
// no second repartition. The typed API in the Build form of a topology.
package explicitrepartition

import "github.com/gofka/streams"

type Payment struct {
	Account string `json:"account"`
	Cents   int64  `json:"cents"`
}

func byAccount(id string, p Payment) (string, int64) { return p.Account, p.Cents }

func sum(balance, cents int64) int64 { return balance + cents }

//gofka:topology
func Balances() (*streams.Topology, error) {
	builder := streams.NewBuilder()
	builder.Stream(streams.With(streams.String(), streams.JSON[Payment]()), "payments").
		Map(byAccount).
		Repartition(streams.Named("by-account")).
		GroupByKey().
		Reduce(sum, streams.RocksDBStore("balances")).
		ToStream().
		To("balances")
	return builder.Build()
}
