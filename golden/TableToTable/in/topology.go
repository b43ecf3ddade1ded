// Package tabletotable turns streams into tables with ToTable: a stream re-keyed
// by SelectKey is repartitioned first; a table's deletes, forwarded by ToStream
// as records without a value, delete the key of the table ToTable builds.
package tabletotable

import (
	"strings"

	"github.com/gofka/streams"
)

func userOf(_ string, v string) string { u, _, _ := strings.Cut(v, ":"); return u }

func upper(v string) string { return strings.ToUpper(v) }

func notBanned(_ string, v string) bool { return !strings.HasSuffix(v, ":banned") }

//gofka:topology
func Latest(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), streams.String()), "logins").
		SelectKey(userOf).
		ToTable(streams.InMemoryStore("latest-login")).
		Filter(notBanned).
		ToStream().
		MapValues(upper).
		ToTable(streams.RocksDBStore("latest-login-upper")).
		ToStream().
		To("latest-logins")
}

// Moves sends a table's changes, deletes included, through an explicit
// repartition topic into another table: a tombstone read back is a delete again.
//
//gofka:topology
func Moves(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.String()), "homes", streams.InMemoryStore("homes")).
		ToStream().
		MapValues(strings.ToUpper).
		Repartition(streams.Named("homes-copy")).
		ToTable(streams.InMemoryStore("homes-copy")).
		ToStream().
		To("home-changes")
}
