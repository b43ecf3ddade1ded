// Package termbar draws progress bars for gofkagen and the bench commands
// (github.com/schollz/progressbar) on a terminal, and nothing otherwise: CI
// logs and redirected output get no escape sequences. A command makes a Bar
// on its stderr, moves it with Add or Set as steps or records complete, and
// prints its own lines through Printf so that they do not tear the bar.
package termbar

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar is a progress bar, or nothing when its writer is not a terminal. Its
// methods may be called on a nil *Bar.
type Bar struct {
	pb   *progressbar.ProgressBar
	w    io.Writer
	done bool
	stop chan struct{} // ends the redraws
}

// IsTerminal says whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New makes a bar of max steps (unit names them: "runs", "records") on w
// when w is a terminal, else an invisible one.
func New(w io.Writer, max int64, desc, unit string) *Bar {
	return newBar(w, max, desc, unit, IsTerminal(w))
}

func newBar(w io.Writer, max int64, desc, unit string, visible bool) *Bar {
	b := &Bar{w: w}
	if !visible {
		return b
	}
	b.pb = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
	// Redraw while a long step makes no progress, so the elapsed time moves.
	b.stop = make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.pb.Add64(0)
			}
		}
	}()
	return b
}

// Visible says whether the bar is drawn.
func (b *Bar) Visible() bool { return b != nil && b.pb != nil }

// Add moves the bar n steps on.
func (b *Bar) Add(n int64) {
	if b.Visible() {
		b.pb.Add64(n)
	}
}

// Set puts the bar at n steps.
func (b *Bar) Set(n int64) {
	if b.Visible() {
		b.pb.Set64(n)
	}
}

// Describe changes the text before the bar.
func (b *Bar) Describe(desc string) {
	if b.Visible() {
		b.pb.Describe(desc)
	}
}

// Printf prints a line to out without tearing the bar: the bar is cleared
// first and drawn again below the line.
func (b *Bar) Printf(out io.Writer, format string, args ...any) {
	b.Above(func() { fmt.Fprintf(out, format, args...) })
}

// Above runs print (which writes whole lines) with the bar out of the way.
func (b *Bar) Above(print func()) {
	if !b.Visible() || b.done {
		print()
		return
	}
	b.pb.Clear()
	print()
	b.pb.RenderBlank()
}

// Finish ends the bar and erases it; calling it again does nothing.
func (b *Bar) Finish() {
	if b.Visible() && !b.done {
		b.done = true
		close(b.stop)
		b.pb.Finish()
	}
}
