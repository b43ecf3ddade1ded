// Package methodexpressions passes methods as functions: method expressions
// (Sensor.IsIndoor, Reading.Fahrenheit) and methods of package-level variables
// (cal.Adjust on a pointer, limits.TooHot on a value). The key type is a named
// string type, read with a composite-literal serde.
package methodexpressions

import (
	"strings"

	"github.com/gofka/streams"
)

type Sensor string

func (s Sensor) IsIndoor(r Reading) bool { return strings.HasPrefix(string(s), "in-") }

type Reading struct {
	Celsius float64 `json:"celsius"`
}

func (r Reading) Fahrenheit() float64 { return r.Celsius*9/5 + 32 }

// Calibration corrects a thermometer that reads too high.
type Calibration struct{ Offset float64 }

func (c *Calibration) Adjust(f float64) float64 { return f + c.Offset }

var cal = &Calibration{Offset: -1}

type Limits struct{ MaxF float64 }

func (l Limits) TooHot(s Sensor, f float64) bool { return f > l.MaxF }

var limits = Limits{MaxF: 86}

//gofka:topology
func HotRooms(b *streams.StreamsBuilder) {
	b.Stream(streams.With(streams.StringSerde[Sensor]{}, streams.JSON[Reading]()), "readings").
		Filter(Sensor.IsIndoor).
		MapValues(Reading.Fahrenheit).
		MapValues(cal.Adjust).
		Filter(limits.TooHot).
		To("too-hot")
}
