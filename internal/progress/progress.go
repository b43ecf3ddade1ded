// Package progress logs how far a long piece of work got: a restore replaying
// a changelog, a snapshot download. The worker reports what it has done
// (Add, Set) as it goes, from any goroutine; a line goes to the log at info
// level at most once an interval (Every, 5 s by default), with the amount
// done, the total, the percentage, the rate and the estimated time left, so a
// restore of an hour says where it is without a line per record. Work that
// ends within the first interval logs nothing here: its caller's final line
// (a task started, a snapshot installed) says all there is.
package progress

import (
	"log/slog"
	"math"
	"sync"
	"time"
)

// DefaultEvery is the interval between two progress lines of a Logger made
// with Every 0.
const DefaultEvery = 5 * time.Second

// Logger logs the progress of one piece of work.
type Logger struct {
	log   *slog.Logger
	msg   string
	unit  string // "records" or "bytes": the name of the done and total attributes' unit
	total int64
	every time.Duration
	attrs []any

	mu     sync.Mutex
	start  time.Time
	next   time.Time // when the next line may go out
	done   int64
	logged int // lines logged
}

// New starts the progress of work of total units (unit names them in the
// log: "records", "bytes"); every is the interval between lines (0: DefaultEvery),
// attrs are added to each line (say, the task).
func New(log *slog.Logger, msg, unit string, total int64, every time.Duration, attrs ...any) *Logger {
	if every <= 0 {
		every = DefaultEvery
	}
	now := time.Now()
	return &Logger{log: log, msg: msg, unit: unit, total: total, every: every, attrs: attrs, start: now, next: now.Add(every)}
}

// Add counts n more units done.
func (p *Logger) Add(n int64) {
	p.mu.Lock()
	p.done += n
	p.maybeLogLocked()
	p.mu.Unlock()
}

// Set says done units are done in all.
func (p *Logger) Set(done int64) {
	p.mu.Lock()
	p.done = done
	p.maybeLogLocked()
	p.mu.Unlock()
}

// Lines says how many progress lines were logged.
func (p *Logger) Lines() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logged
}

func (p *Logger) maybeLogLocked() {
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(p.every)
	p.logged++
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / elapsed.Seconds()
	args := append([]any{}, p.attrs...)
	args = append(args, p.unit+"_done", p.done, p.unit+"_total", p.total,
		"percent", math.Round(Percent(p.done, p.total)*10)/10,
		"per_second", int64(math.Round(rate)), "elapsed", elapsed.Round(time.Second))
	if eta, ok := Remaining(p.done, p.total, elapsed); ok {
		args = append(args, "eta", eta.Round(time.Second))
	}
	p.log.Info(p.msg, args...)
}

// Percent is done as a percentage of total (100 for an empty total).
func Percent(done, total int64) float64 {
	if total <= 0 {
		return 100
	}
	return 100 * float64(min(done, total)) / float64(total)
}

// Remaining estimates the time left at the average rate so far; ok is false
// before anything was done.
func Remaining(done, total int64, elapsed time.Duration) (time.Duration, bool) {
	if done <= 0 || elapsed <= 0 {
		return 0, false
	}
	left := max(total-done, 0)
	return time.Duration(float64(elapsed) * float64(left) / float64(done)), true
}
