package errafterwrongstep

import (
	"strings"

	"github.com/gofka/streams"
)

type Point struct{ X, Y int }

// toPoint takes only the value: Map wants the key too. Its results still say
// what the chain after it receives, so the chain is checked.
func toPoint(line string) (Point, int64) { return Point{X: len(line)}, int64(len(line)) }

func isBig(p Point, weight int64) bool { return weight > 10 }

func tags(weight int64) map[string]bool { return map[string]bool{"big": weight > 10} }

func union(a, b map[string]bool) map[string]bool { return a }

// A step whose serdes or store are wrong keeps the types of its records, so the
// steps after it are checked too.
//
//gofka:topology
func Points(b *streams.StreamsBuilder) {
	points := b.Stream(streams.With(streams.String(), streams.String()), "points").Map(toPoint)
	points.Filter(isBig).To("big points")
	points.MapValues(tags).GroupByKey().Reduce(union, streams.InMemoryStore("tag sets"))
	points.SelectKey(strings.ToUpper).To("by-upper")
}
