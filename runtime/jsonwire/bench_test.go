package jsonwire

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The pieces of a Nexmark bid's encoding, one by one, to see where its time
// goes (bench/serde measures the whole record against the libraries).

var sink []byte

func BenchmarkAppendString(b *testing.B) {
	for _, s := range []string{"channel-3", "https://www.nexmark.com/ktqw/itbz/xyx/item.htm?query=1", "fhakadlqwiuerhgvsadf"} {
		b.Run(s[:min(len(s), 12)], func(b *testing.B) {
			buf := make([]byte, 0, 128)
			for b.Loop() {
				buf = AppendString(buf[:0], s)
			}
			sink = buf
		})
	}
}

func BenchmarkWriteInt(b *testing.B) {
	e := NewEncoder(make([]byte, 0, 128))
	for b.Loop() {
		e.Buf = e.Buf[:0]
		WriteInt(&e, int64(1007))
		WriteInt(&e, int64(2001))
		WriteInt(&e, int64(13750))
	}
	sink = e.Buf
}

func BenchmarkWriteTime(b *testing.B) {
	t := time.Date(2026, 12, 5, 2, 30, 15, 123000000, time.UTC)
	e := NewEncoder(make([]byte, 0, 128))
	for b.Loop() {
		e.Buf = e.Buf[:0]
		WriteTime(&e, t)
	}
	sink = e.Buf
}

// BenchmarkPieces times each piece against the standard library's way of
// writing the same bytes, in interleaved rounds (a busy machine slows both
// alike), and reports the median of std's time over ours (higher: ours is faster).
func BenchmarkPieces(b *testing.B) {
	t := time.Date(2026, 12, 5, 2, 30, 15, 123000000, time.UTC)
	buf := make([]byte, 0, 128)
	url := "https://www.nexmark.com/ktqw/itbz/xyx/item.htm?query=1"
	pieces := []struct {
		name      string
		std, ours func()
	}{
		{"int", func() { buf = strconv.AppendInt(buf[:0], 13750, 10) }, func() { buf = appendInt64(buf[:0], 13750) }},
		{"time", func() { buf, _ = t.AppendText(buf[:0]) }, func() { buf, _ = appendTimeUTC(buf[:0], t) }},
		{"string", func() { buf = stdAppendString(buf[:0], url) }, func() { buf = AppendString(buf[:0], url) }},
	}
	for _, p := range pieces {
		b.Run(p.name, func(b *testing.B) {
			var ratios []float64
			for b.Loop() {
				s := time.Now()
				for range 1000 {
					p.std()
				}
				std := time.Since(s)
				s = time.Now()
				for range 1000 {
					p.ours()
				}
				ratios = append(ratios, float64(std)/float64(time.Since(s)))
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "std/ours")
		})
	}
	sink = buf
}

// stdAppendString is encoding/json's string encoding, appended (json.Marshal
// allocates its result: that is part of what it costs).
func stdAppendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
