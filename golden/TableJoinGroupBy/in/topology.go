// Package tablejoingroupby counts the active users of each team: a table-table
// join feeds a GroupBy, so the join hands on old rows too (Kafka Streams'
// sendOldValues), and a user who changes team, or stops being active, is
// subtracted from the old team.
package tablejoingroupby

import "github.com/gofka/streams"

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
