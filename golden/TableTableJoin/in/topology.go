// Package tabletablejoin ports the scenario of Kafka Streams'
// KTableKTableInnerJoinTest (and its left and outer variants): two tables
// joined on their key, whose result changes when either side does. The three
// joins share the two tables; each writes its changes to a topic, deletes as
// tombstones.
package tabletablejoin

import "github.com/gofka/streams"

func inner(l, r string) string { return l + "+" + r }

func left(l string, r *string) string {
	if r == nil {
		return l + "+null"
	}
	return l + "+" + *r
}

func outer(_ string, l, r *string) string {
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	return str(l) + "+" + str(r)
}

//gofka:topology
func Joins(b *streams.StreamsBuilder) {
	t1 := b.Table(streams.With(streams.String(), streams.String()), "topic1", streams.InMemoryStore("store1"))
	t2 := b.Table(streams.With(streams.String(), streams.String()), "topic2", streams.RocksDBStore("store2"))
	t1.Join(t2, inner).ToStream().To("inner")
	t1.LeftJoin(t2, left).ToStream().To("left")
	t1.OuterJoin(t2, outer).ToStream().To("outer")
}
