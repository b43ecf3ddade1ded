package errafterbadbranch

import (
	"strings"

	"github.com/gofka/streams"
)

func isLarge(id string, amount int64) bool { return amount >= 100 }

// isSmall takes only the amount: Branch wants the key too.
func isSmall(amount int64) bool { return amount < 10 }

// The wrong predicate does not hide the mistakes on the branches: a branch keeps
// the stream's types, so each is still checked.
//
//gofka:topology
func Orders(b *streams.StreamsBuilder) {
	parts := b.Stream(streams.With(streams.String(), streams.Int64()), "orders").Branch(isLarge, isSmall)
	parts[0].To("large orders")
	parts[1].MapValues(strings.ToUpper).To("small-orders")
	parts[2].To("other-orders")
}
