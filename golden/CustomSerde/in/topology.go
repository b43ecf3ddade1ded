// Package customserde reads and writes points with a serde of its own, a
// package-level variable of a type with Encode and Decode methods, and also
// writes them with the default serde for a struct, JSON. A value the serde
// cannot decode fails its record, and the others go on.
package customserde

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofka/streams"
)

type Point struct{ X, Y int }

// pointCSV encodes a point as "x,y".
type pointCSV struct{}

func (pointCSV) Encode(dst []byte, p Point) ([]byte, error) {
	return fmt.Appendf(dst, "%d,%d", p.X, p.Y), nil
}

func (pointCSV) Decode(data []byte) (Point, error) {
	xs, ys, _ := strings.Cut(string(data), ",")
	x, errX := strconv.Atoi(xs)
	y, errY := strconv.Atoi(ys)
	if errX != nil || errY != nil {
		return Point{}, fmt.Errorf("point %q: want x,y", data)
	}
	return Point{X: x, Y: y}, nil
}

var pointSerde pointCSV

func mirror(p Point) Point { return Point{X: p.Y, Y: p.X} }

//gofka:topology
func Mirror(b *streams.StreamsBuilder) {
	mirrored := b.Stream(streams.With(streams.String(), pointSerde), "points").MapValues(mirror)
	mirrored.To("mirrored", streams.With(streams.String(), pointSerde))
	mirrored.To("mirrored-json")
}
