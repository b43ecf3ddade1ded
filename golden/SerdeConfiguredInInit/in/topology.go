// Package bugserdecopiedatinit uses a serde that is configured in an init
// function, as a serde that needs a schema registry or a key might be: the
// topology must use the variable as it is when records flow, not a copy taken
// before init ran.
package serdeconfiguredininit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofka/streams"
)

type Point struct{ X, Y int }

// pointText encodes a point as x, sep, y.
type pointText struct{ sep string }

func (s pointText) Encode(dst []byte, p Point) ([]byte, error) {
	return fmt.Appendf(dst, "%d%s%d", p.X, s.sep, p.Y), nil
}

func (s pointText) Decode(data []byte) (Point, error) {
	xs, ys, ok := strings.Cut(string(data), s.sep)
	x, errX := strconv.Atoi(xs)
	y, errY := strconv.Atoi(ys)
	if !ok || s.sep == "" || errX != nil || errY != nil {
		return Point{}, fmt.Errorf("point %q: want x%sy", data, s.sep)
	}
	return Point{X: x, Y: y}, nil
}

var pointSerde pointText

func init() { pointSerde.sep = ";" }

func mirror(p Point) Point { return Point{X: p.Y, Y: p.X} }

//gofka:topology
func Mirror(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.String(), pointSerde), "points").
		MapValues(mirror).
		To("mirrored", streams.With(streams.String(), pointSerde))
}
