// Package numericserdes sums float64 amounts per int64 customer id with Reduce,
// and writes the totals both as they are and, through MapValues in its
// func(K, V) V2 form, as bools.
package numericserdes

import "github.com/gofka/streams"

func addAmount(total, amount float64) float64 { return total + amount }

func isBig(customer int64, total float64) bool { return total > 100 }

//gofka:topology
func Spending(b *streams.StreamsBuilder) {
	totals := b.Stream(streams.With(streams.Int64(), streams.Float64()), "purchases").
		GroupByKey().
		Reduce(addAmount, streams.InMemoryStore("spending")).
		ToStream()
	totals.To("spending-totals")
	totals.MapValues(isBig).To("big-spenders")
}
