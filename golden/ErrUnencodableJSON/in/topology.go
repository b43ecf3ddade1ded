package errunencodablejson

import (
	"strconv"

	"github.com/gofka/streams"
)

// Click has a function field: encoding/json fails on every Click it encodes.
type Click struct {
	User    string
	OnClick func(string)
}

// Session holds Clicks, so it cannot be encoded either.
type Session struct {
	User   string
	Clicks []Click
}

type Point struct{ X, Y int }

// Heatmap's map key is a struct, which JSON cannot use as an object key.
type Heatmap struct {
	Cells map[Point]int
}

// Stamp encodes itself.
type Stamp struct{ At complex128 }

func (s Stamp) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(real(s.At), 'f', -1, 64)), nil
}

// Safe is encodable: encoding/json skips unexported and json:"-" fields, and
// Stamp has a MarshalText method.
type Safe struct {
	User  string
	At    Stamp
	Next  *Safe
	done  chan bool
	Trace func() `json:"-"`
}

func session(k string, c Click) Session { return Session{User: c.User} }

func heatmap(k string, c Click) Heatmap { return Heatmap{} }

func safe(k string, c Click) Safe { return Safe{User: c.User} }

func newSession() Session { return Session{} }

func addClick(k string, c Click, s Session) Session { return s }

//gofka:topology
func Clicks(b *streams.StreamsBuilder) {
	// Reading clicks only decodes them; each place that encodes one is an error.
	clicks := b.Stream(streams.With(streams.String(), streams.JSON[Click]()), "clicks")
	clicks.To("clicks-copy")
	clicks.MapValues(session).To("sessions")
	clicks.MapValues(heatmap).To("heatmaps")
	clicks.MapValues(safe).To("safe")
	clicks.GroupByKey().Aggregate(newSession, addClick, streams.InMemoryStore("sessions"))
	clicks.MapValues(heatmap).Repartition(streams.With(streams.String(), streams.JSON[Heatmap]()))
	// Grouping by the same key does not repartition, so nothing is encoded there.
	clicks.GroupByKey().Count(streams.InMemoryStore("counts")).ToStream().To("counts")
}
