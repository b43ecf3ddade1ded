package coordinator

import (
	"context"
	"log/slog"
	"sync"
)

// Event is something the engine must act on: one of AssignmentChanged,
// CheckpointStarted, CheckpointFinished and Fenced.
type Event interface{ isEvent() }

// AssignmentChanged says which tasks this replica owns, and keeps standbys
// of, as of Epoch. It is
// also sent when the replica (re)gains its lease, so that an engine which
// stopped its tasks on Fenced starts them again.
type AssignmentChanged struct {
	Epoch uint64
	Mine  []TaskID
	// Standby is the tasks this replica keeps a standby of (never one of
	// Mine): the engine tails their changelogs.
	Standby []TaskID
}

// CheckpointStarted says checkpoint ID began at assignment Epoch.
type CheckpointStarted struct {
	ID    uint64
	Epoch uint64
}

// CheckpointFinished says checkpoint ID completed or was aborted.
type CheckpointFinished struct {
	ID       uint64
	Complete bool
}

// Fenced says this replica must stop processing every task at once: its
// lease lapsed or the leader declared it dead.
type Fenced struct{ Reason string }

func (AssignmentChanged) isEvent()  {}
func (CheckpointStarted) isEvent()  {}
func (CheckpointFinished) isEvent() {}
func (Fenced) isEvent()             {}

// maxQueuedEvents bounds the queue for a consumer that stopped reading.
const maxQueuedEvents = 4096

// eventQueue buffers events between the FSM (which must never block) and the
// consumer, in order. A newer AssignmentChanged replaces an undelivered older
// one (only the latest assignment matters); it goes to the end of the queue,
// so the order of the log is kept.
type eventQueue struct {
	out  chan Event
	wake chan struct{}
	log  *slog.Logger

	mu   sync.Mutex
	q    []queued
	next uint64
}

type queued struct {
	seq uint64
	ev  Event
}

func newEventQueue(log *slog.Logger) *eventQueue {
	return &eventQueue{out: make(chan Event), wake: make(chan struct{}, 1), log: log}
}

func (e *eventQueue) push(ev Event) {
	e.mu.Lock()
	if _, ok := ev.(AssignmentChanged); ok {
		e.q = deleteFunc(e.q, func(q queued) bool { _, ok := q.ev.(AssignmentChanged); return ok })
	}
	if len(e.q) >= maxQueuedEvents {
		// Drop the oldest checkpoint event: a consumer this far behind has
		// long missed those checkpoints anyway.
		for i, q := range e.q {
			if _, ok := q.ev.(AssignmentChanged); !ok {
				e.log.Warn("coordinator: event consumer too slow; dropping an old event", "event", q.ev)
				e.q = append(e.q[:i], e.q[i+1:]...)
				break
			}
		}
	}
	e.next++
	e.q = append(e.q, queued{seq: e.next, ev: ev})
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func deleteFunc(q []queued, del func(queued) bool) []queued {
	out := q[:0]
	for _, x := range q {
		if !del(x) {
			out = append(out, x)
		}
	}
	return out
}

// run delivers events until ctx ends.
func (e *eventQueue) run(ctx context.Context) {
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			e.mu.Unlock()
			select {
			case <-e.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		head := e.q[0]
		e.mu.Unlock()
		select {
		case e.out <- head.ev:
			e.mu.Lock()
			if len(e.q) > 0 && e.q[0].seq == head.seq {
				e.q = e.q[1:]
			}
			e.mu.Unlock()
		case <-e.wake:
			// The head may have been replaced by a newer assignment: look again.
		case <-ctx.Done():
			return
		}
	}
}
