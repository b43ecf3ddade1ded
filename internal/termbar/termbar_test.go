package termbar

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNothingWhenNotATerminal: output that is not a terminal (a file, a
// pipe, a buffer: CI logs) gets no bar, and Printf's lines pass through.
func TestNothingWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, 10, "measuring", "runs")
	if b.Visible() || IsTerminal(&buf) {
		t.Fatal("a bar on a buffer")
	}
	b.Add(3)
	b.Describe("still measuring")
	b.Printf(&buf, "run %d done\n", 1)
	b.Finish()
	if got := buf.String(); got != "run 1 done\n" {
		t.Errorf("wrote %q, want only the printed line", got)
	}
	var nilBar *Bar
	nilBar.Add(1) // a nil bar is an invisible one
	nilBar.Finish()
}

// TestBarOnATerminal draws the bar as it would on a terminal: its
// description and count, then erased at the end.
func TestBarOnATerminal(t *testing.T) {
	var buf syncBuffer // the bar redraws from a goroutine of its own
	b := newBar(&buf, 4, "measuring", "runs", true)
	pause := func() { time.Sleep(150 * time.Millisecond) } // past the bar's throttle, so each step is drawn
	b.Add(1)
	b.Add(1)
	pause()
	b.Add(0)
	b.Describe("gofka run 3")
	pause()
	b.Set(3)
	out := buf.String()
	for _, want := range []string{"measuring", "2/4", "gofka run 3", "3/4"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output %q lacks %q", out, want)
		}
	}
	b.Printf(&buf, "a line\n")
	if !strings.Contains(buf.String(), "a line\n") {
		t.Errorf("Printf's line missing: %q", buf.String())
	}
	b.Finish()
	b.Finish()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
