// Package tabletostream reads a topic as a table into an in-memory store and turns
// its updates back into a stream. A record with a nil value deletes its key;
// ToStream forwards the delete, MapValues passes it on without calling its
// function, and To writes it as a tombstone.
package tabletostream

import (
	"fmt"

	"github.com/gofka/streams"
)

type Profile struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

//gofka:topology
func Profiles(b *streams.StreamsBuilder) {
	b.Table(streams.With(streams.String(), streams.JSON[Profile]()), "profiles", streams.InMemoryStore("profiles-store")).
		ToStream().
		MapValues(func(p Profile) string { return fmt.Sprintf("%s (%d)", p.Name, p.Age) }).
		To("profile-labels")
}
