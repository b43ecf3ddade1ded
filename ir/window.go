package ir

import (
	"fmt"
	"strings"
	"time"
)

// Windows and suppression. A windowed aggregation is an ordinary Count, Reduce or
// Aggregate node whose Window is set: its key type is then streams.Windowed[K]
// (the table's key), its store is keyed by the plain key and the window, and its
// Topics, if any, hold the topic late records go to. A Suppress node (OpSuppress)
// follows a table and holds back its updates as Suppression says.

// WindowKind is the kind of a window.
type WindowKind uint8

const (
	TumblingWindow WindowKind = iota + 1 // Size; aligned to the epoch
	HoppingWindow                        // Size, Advance; aligned to the epoch
	SlidingWindow                        // Size is the time difference (Kafka Streams' SlidingWindows)
	SessionWindow                        // Gap
	CountWindow                          // Count records per window of a key
)

var windowKindNames = [...]string{
	TumblingWindow: "tumbling",
	HoppingWindow:  "hopping",
	SlidingWindow:  "sliding",
	SessionWindow:  "session",
	CountWindow:    "count",
}

func (k WindowKind) String() string {
	if int(k) < len(windowKindNames) && windowKindNames[k] != "" {
		return windowKindNames[k]
	}
	return fmt.Sprintf("WindowKind(%d)", k)
}

// Window says how a windowed aggregation cuts its input.
type Window struct {
	Kind    WindowKind
	Size    time.Duration // tumbling, hopping; sliding: the time difference
	Advance time.Duration // hopping; equal to Size for tumbling
	Gap     time.Duration // session: the inactivity gap
	Count   int64         // count windows: records per window
	Grace   time.Duration // how long after its end a window accepts records
}

// Timed reports whether windows have a time (all but count windows).
func (w *Window) Timed() bool { return w.Kind != CountWindow }

// Retention is how long a window must be kept after its start: its length plus
// grace (sessions: gap plus grace, counted from the session's end; sliding
// windows: twice the time difference plus grace).
func (w *Window) Retention() time.Duration {
	switch w.Kind {
	case SessionWindow:
		return w.Gap + w.Grace
	case CountWindow:
		return 0
	case SlidingWindow: // Kafka Streams' default: a record within grace may need a window that starts 2d before it
		return 2*w.Size + w.Grace
	}
	return w.Size + w.Grace
}

// String describes the window as describe prints it: "tumbling 1m0s, grace 10s".
func (w *Window) String() string {
	var s string
	switch w.Kind {
	case TumblingWindow:
		s = fmt.Sprintf("tumbling %v", w.Size)
	case HoppingWindow:
		s = fmt.Sprintf("hopping %v advance %v", w.Size, w.Advance)
	case SlidingWindow:
		s = fmt.Sprintf("sliding %v", w.Size)
	case SessionWindow:
		s = fmt.Sprintf("session gap %v", w.Gap)
	case CountWindow:
		return fmt.Sprintf("count %d", w.Count)
	default:
		return w.Kind.String()
	}
	return s + fmt.Sprintf(", grace %v", w.Grace)
}

// SuppressKind says what a Suppress node holds back.
type SuppressKind uint8

const (
	UntilWindowCloses SuppressKind = iota + 1 // one final record per window
	UntilTimeLimit                            // each key's latest update after Limit, or when more than MaxRecords (if > 0) are buffered
)

// Suppression is the configuration of a Suppress node.
type Suppression struct {
	Kind       SuppressKind
	Limit      time.Duration
	MaxRecords int
}

func (s *Suppression) String() string {
	if s.Kind == UntilWindowCloses {
		return "emit final (until the window closes)"
	}
	if s.MaxRecords <= 0 {
		return fmt.Sprintf("emit after %v, unbounded buffer", s.Limit)
	}
	return fmt.Sprintf("emit after %v or %d buffered keys", s.Limit, s.MaxRecords)
}

// emitMode describes what a windowed aggregation's consumers receive: every
// update, or (when a Suppress follows) the final result only.
func emitMode(g *Graph, n *Node) string {
	final, updates := false, false
	for _, c := range g.Consumers(n, 0) {
		if c.Op == OpSuppress && c.Suppress != nil && c.Suppress.Kind == UntilWindowCloses {
			final = true
		} else {
			updates = true
		}
	}
	switch {
	case final && updates:
		return "emit every update, and final through Suppress"
	case final:
		return "emit final"
	}
	return "emit every update"
}

// windowDetail is the part of a node's description that concerns windows.
func windowDetail(g *Graph, n *Node, appID string) []string {
	var parts []string
	if n.Window != nil {
		w := "[" + n.Window.String() + ", " + emitMode(g, n)
		if len(n.Topics) > 0 {
			w += ", late records to " + n.Topics[0].FullName(appID)
		}
		parts = append(parts, w+"]")
	}
	if n.Suppress != nil {
		parts = append(parts, "["+n.Suppress.String()+"]")
	}
	return parts
}

// windowLabel is the Mermaid label suffix of a windowed or suppress node.
func windowLabel(n *Node) string {
	var parts []string
	if n.Window != nil {
		parts = append(parts, n.Window.String())
	}
	if n.Suppress != nil {
		parts = append(parts, n.Suppress.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return "<br/>" + strings.Join(parts, "<br/>")
}
