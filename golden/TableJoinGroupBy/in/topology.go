// Package tablejoingroupby counts the active users of each team: a table-table
// join feeds a GroupBy, so the join hands on old rows too (Kafka Streams'
// sendOldValues), and a user who changes team, or stops being active, is
// subtracted from the old team.
package tablejoingroupby

import (
	"strconv"

	"github.com/gofka/streams"
)

func team(t, _ string) string { return t }

func byTeam(user, team string) (string, string) { return team, user }

//gofka:topology
func ActivePerTeam(b *streams.StreamsBuilder) {
	users := b.Table(streams.With(streams.String(), streams.String()), "users", streams.InMemoryStore("users"))
	active := b.Table(streams.With(streams.String(), streams.String()), "active", streams.InMemoryStore("active"))
	users.Join(active, team).
		GroupBy(byTeam).
		Count(streams.InMemoryStore("active-per-team")).
		ToStream().
		To("active-per-team")
}

func byCount(user string, n int64) (string, string) { return strconv.FormatInt(n, 10), user }

// UsersPerCount counts the users who clicked n times, for each n: the table of a
// stream's Count hands on its old counts to GroupBy, which moves a user from
// n-1 to n.
//
//gofka:topology
func UsersPerCount(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "clicks").
		GroupByKey().
		Count(streams.InMemoryStore("clicks-per-user")).
		GroupBy(byCount).
		Count(streams.InMemoryStore("users-per-count")).
		ToStream().
		To("users-per-count")
}
