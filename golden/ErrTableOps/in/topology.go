package errtableops

import (
	"time"

	"github.com/gofka/streams"
)

func isEmpty(v string) bool { return v == "" }

func size(_ string, v int) int { return v }

func byLength(k, v string) string { return v }

func zero() int64 { return 0 }

func add(_ string, v string, agg int64) int64 { return agg + int64(len(v)) }

func subWrong(_ string, v int, agg int64) int64 { return agg - int64(v) }

func concat(agg, v string) string { return agg + v }

func trim(agg string) string { return agg }

func regroup(k, v string) (string, string) { return v, k }

func positive(_ streams.Windowed[string], n int64) bool { return n > 0 }

//gofka:topology
func Ops(b *streams.StreamsBuilder) {
	t := b.Table(streams.With(streams.String(), streams.String()), "t", streams.InMemoryStore("t"))
	t.Filter(isEmpty).ToStream().To("a")
	t.MapValues(size).ToStream().To("b")
	t.GroupBy(byLength).Count(streams.InMemoryStore("c"))
	t.GroupBy(regroup).Aggregate(zero, add, subWrong, streams.InMemoryStore("d")).ToStream().To("d")
	t.GroupBy(regroup).Reduce(concat, trim, streams.InMemoryStore("e")).ToStream().To("e")
	b.Stream(streams.With(streams.String(), streams.String()), "s").
		GroupByKey().
		WindowedBy(streams.TumblingWindows(time.Minute)).
		Count(streams.InMemoryStore("f")).
		Filter(positive).ToStream().To("f")
}
