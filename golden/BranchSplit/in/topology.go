// Package branchsplit routes orders with Branch and with Split, indexing each
// result with constants (a literal and a named constant). Values are float64,
// and a MapValues turns them into bool.
package branchsplit

import (
	"strings"

	"github.com/gofka/streams"
)

func isLarge(id string, amount float64) bool { return amount >= 100 }

func isSmall(id string, amount float64) bool { return amount < 10 }

func always(id string, amount float64) bool { return true }

const eu, rest = 0, 1

//gofka:topology
func Route(b *streams.StreamsBuilder) {
	orders := b.Stream(streams.With(streams.String(), streams.Float64()), "orders")

	// Orders of 10 to 100 match no predicate, and are dropped.
	bySize := orders.Branch(isLarge, isSmall)
	bySize[0].To("large-orders")
	bySize[1].MapValues(func(amount float64) bool { return amount < 1 }).To("small-order-is-tiny")

	byRegion := orders.Split(func(id string, amount float64) bool { return strings.HasPrefix(id, "eu-") }, always)
	byRegion[eu].To("eu-orders")
	byRegion[rest].To("other-orders")
}
