// Package tablejoinaggregate joins aggregations with tables: an aggregate's
// row takes the later of its record's timestamp and the old aggregate's (Kafka
// Streams' KStreamAggregate and KTableAggregate), and a joined record the later
// of the change's and the other row's.
package tablejoinaggregate

import (
	"strconv"

	"github.com/gofka/streams"
)

func named(name string, n int64) string { return name + ":" + strconv.FormatInt(n, 10) }

// ClicksJoinUsers counts each user's clicks (a stream aggregation) and joins
// the counts with the users' names.
//
//gofka:topology
func ClicksJoinUsers(b *streams.StreamsBuilder) {
	users := b.Table(streams.With(streams.String(), streams.String()), "users", streams.InMemoryStore("users"))
	counts := b.Stream(streams.With(streams.String(), streams.String()), "clicks").
		GroupByKey().
		Count(streams.InMemoryStore("clicks-per-user"))
	counts.ToStream().To("counts")
	users.Join(counts, named).ToStream().To("user-clicks")
}

func byTeam(user, team string) (string, string) { return team, user }

// TeamSizes counts each team's members (a table aggregation) and joins the
// sizes with the teams' names.
//
//gofka:topology
func TeamSizes(b *streams.StreamsBuilder) {
	teams := b.Table(streams.With(streams.String(), streams.String()), "teams", streams.InMemoryStore("teams"))
	sizes := b.Table(streams.With(streams.String(), streams.String()), "members", streams.InMemoryStore("members")).
		GroupBy(byTeam).
		Count(streams.InMemoryStore("team-size"))
	sizes.ToStream().To("team-sizes")
	teams.Join(sizes, named).ToStream().To("team-names")
}
