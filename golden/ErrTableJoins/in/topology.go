package errtablejoins

import "github.com/gofka/streams"

func joinStrings(v, vt string) string { return v + vt }

func leftNotPointer(v, vt string) string { return v + vt }

func wrongResults(v, vt string) (string, error) { return v + vt, nil }

func isLong(_ string, v string) bool { return len(v) > 3 }

//gofka:topology
func Joins(b *streams.StreamsBuilder) {
	names := b.Table(streams.With(streams.String(), streams.String()), "names", streams.InMemoryStore("names"))
	byID := b.Table(streams.With(streams.Int64(), streams.String()), "by-id", streams.InMemoryStore("by-id"))
	s := b.Stream(streams.With(streams.String(), streams.String()), "events")
	s.Join(byID, joinStrings).To("a")
	s.LeftJoin(names, leftNotPointer).To("b")
	s.Join(names.Filter(isLong), joinStrings).To("c")
	names.Join(byID, joinStrings).ToStream().To("d")
	names.OuterJoin(names.MapValues(func(v string) string { return v }), wrongResults).ToStream().To("e")
	names.Join(names, joinStrings).ToStream().To("f")
}
