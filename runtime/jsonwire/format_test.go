package jsonwire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestIntegersMatchStrconv: every power of ten and its neighbours (where the
// digit count changes), the extremes, and random values of every bit length,
// as strconv writes them.
func TestIntegersMatchStrconv(t *testing.T) {
	us := []uint64{0, 1, 9, math.MaxUint64, math.MaxUint64 - 1, 1<<63 - 1, 1 << 63}
	for p := uint64(1); p <= 1e19; p *= 10 {
		us = append(us, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for bits := 1; bits <= 64; bits++ {
		for range 50 {
			us = append(us, r.Uint64()>>(64-bits))
		}
	}
	for _, u := range us {
		if got, want := string(appendUint64([]byte("x"), u)), "x"+strconv.FormatUint(u, 10); got != want {
			t.Errorf("appendUint64(%d) = %s, want %s", u, got, want)
		}
		for _, v := range []int64{int64(u), -int64(u)} {
			if got, want := string(appendInt64([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
				t.Errorf("appendInt64(%d) = %s, want %s", v, got, want)
			}
		}
	}
	if got := string(appendInt64(nil, math.MinInt64)); got != strconv.FormatInt(math.MinInt64, 10) {
		t.Errorf("appendInt64(MinInt64) = %s", got)
	}
}

// TestTimesMatchMarshalJSON: times at the edges of the years RFC 3339 allows
// (and past them: errors), around leap days and century years, with every
// number of fraction digits, random instants of years 0 to 9999, and zones
// other than UTC (formatted by AppendText), as Time.MarshalJSON writes them.
func TestTimesMatchMarshalJSON(t *testing.T) {
	var times []time.Time
	for _, y := range []int{-1, 0, 1, 4, 99, 100, 400, 1600, 1700, 1900, 1969, 1970, 2000, 2024, 2100, 9999, 10000} {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			times = append(times, time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC),
				time.Date(y, time.Month(md[0]), md[1], 23, 59, 59, 999999999, time.UTC))
		}
	}
	for ns := 1; ns < 1e9; ns *= 10 {
		times = append(times, time.Date(2026, 12, 5, 2, 30, 15, ns, time.UTC), time.Date(2026, 12, 5, 2, 30, 15, ns*7+ns/10, time.UTC))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		sec := minRFC3339Unix + r.Int64N(endRFC3339Unix-minRFC3339Unix)
		times = append(times, time.Unix(sec, r.Int64N(1e9)).UTC())
	}
	east := time.FixedZone("east", 5*3600+30*60)
	zero := time.FixedZone("zero", 0)
	times = append(times, time.Date(2026, 1, 2, 3, 4, 5, 6, east), time.Date(2026, 1, 2, 3, 4, 5, 6, zero),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("w", -3600)), time.Date(0, 1, 1, 0, 30, 0, 0, east),
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("far", 24*3600)), time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local))
	for _, tm := range times {
		want, wantErr := json.Marshal(tm)
		e := NewEncoder([]byte("x"))
		WriteTime(&e, tm)
		if (e.Err() != nil) != (wantErr != nil) {
			t.Fatalf("%v: error %v, encoding/json's %v", tm, e.Err(), wantErr)
		}
		if wantErr == nil && string(e.Buf) != "x"+string(want) {
			t.Fatalf("%v: %s, want %s", tm, e.Buf[1:], want)
		}
	}
}
