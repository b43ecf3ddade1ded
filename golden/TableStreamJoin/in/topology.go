// Package tablestreamjoin ports Kafka Streams' KStreamKTableJoinTest and
// KStreamKTableLeftJoinTest: each stream record joins the table's value for its
// key when it is processed; table updates emit nothing. The left join passes nil
// for a key the table does not hold. Clicks re-keys its stream first, so the
// stream goes through a repartition topic before the join.
package tablestreamjoin

import "github.com/gofka/streams"

func joined(v, vt string) string { return v + "+" + vt }

func leftJoined(v string, vt *string) string {
	if vt == nil {
		return v + "+null"
	}
	return v + "+" + *vt
}

//gofka:topology
func Joins(b *streams.StreamsBuilder) {
	t := b.Table(streams.With(streams.String(), streams.String()), "table", streams.RocksDBStore("table-store"))
	s := b.Stream(streams.With(streams.String(), streams.String()), "stream")
	s.Join(t, joined).To("inner")
	s.LeftJoin(t, leftJoined).To("left")
}

// Click is a click on a page by a user.
type Click struct {
	User string `json:"user"`
	Page string `json:"page"`
}

func byUser(_ string, c Click) string { return c.User }

func describe(user string, c Click, name string) string {
	return name + " (" + user + ") clicked " + c.Page
}

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	users := b.Table(streams.With(streams.String(), streams.String()), "user-names", streams.InMemoryStore("user-names"))
	b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks").
		SelectKey(byUser).
		Join(users, describe).
		To("described-clicks")
}
