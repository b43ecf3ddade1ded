package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLinesAtTheInterval: with an interval that has always passed, every
// update logs a line with the amount done, the percentage and an estimate;
// with the default interval, work that ends within it logs nothing.
func TestLinesAtTheInterval(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	p := New(log, "restoring", "records", 400, time.Nanosecond, "task", "0_1")
	for _, done := range []int64{100, 200, 400} {
		time.Sleep(time.Millisecond)
		p.Set(done)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || p.Lines() != 3 {
		t.Fatalf("%d lines (%d counted), want 3:\n%s", len(lines), p.Lines(), buf.String())
	}
	for i, want := range []string{"records_done=100 records_total=400 percent=25", "records_done=200 records_total=400 percent=50", "records_done=400 records_total=400 percent=100"} {
		if !strings.Contains(lines[i], `msg=restoring task=0_1 `+want) || !strings.Contains(lines[i], "eta=") || !strings.Contains(lines[i], "per_second=") {
			t.Errorf("line %d: %s, want %s with a rate and an eta", i, lines[i], want)
		}
	}
	buf.Reset()
	q := New(log, "downloading snapshot", "bytes", 1000, 0)
	q.Add(500)
	q.Add(500)
	if buf.Len() != 0 || q.Lines() != 0 {
		t.Errorf("work shorter than the interval logged:\n%s", buf.String())
	}
}

func TestPercentAndRemaining(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		want        float64
	}{{0, 10, 0}, {5, 10, 50}, {12, 10, 100}, {0, 0, 100}} {
		if got := Percent(c.done, c.total); got != c.want {
			t.Errorf("Percent(%d, %d) = %v, want %v", c.done, c.total, got, c.want)
		}
	}
	// A quarter done in 10 s: 30 s left at that rate.
	if eta, ok := Remaining(25, 100, 10*time.Second); !ok || eta != 30*time.Second {
		t.Errorf("Remaining(25, 100, 10s) = %v, %v; want 30s", eta, ok)
	}
	if _, ok := Remaining(0, 100, time.Second); ok {
		t.Error("an estimate before anything was done")
	}
}
