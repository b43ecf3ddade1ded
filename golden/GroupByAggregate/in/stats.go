package groupbyaggregate

// Stats summarises the readings of a room.
type Stats struct {
	Count int64   `json:"count"`
	Sum   float64 `json:"sum"`
	Max   float64 `json:"max"`
}

func newStats() Stats { return Stats{} }

func addReading(room string, r Reading, s Stats) Stats {
	if s.Count == 0 || r.Celsius > s.Max {
		s.Max = r.Celsius
	}
	s.Count++
	s.Sum += r.Celsius
	return s
}
