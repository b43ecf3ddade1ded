package engine

import (
	"fmt"
	"time"

	"github.com/gofka/streams/runtime"
)

// punctuate gives the wall-clock time to every running task that acts on it
// (runtime.Punctuator: processors with wall-clock punctuators or
// processing-time timers). The loop calls it after every poll, and a poll waits
// at most 100 ms, so they fire on time with or without input. What they emit
// goes out through the task's producer (under exactly-once, in its open
// transaction), and what they change in the stores is flushed at the next
// commit, as for records. An error stops the engine without committing: the
// timers it fired are fired again after a restart.
func (e *Engine) punctuate() error {
	now := time.Now().UnixMilli()
	for id, t := range e.tasks {
		p, ok := t.t.(runtime.Punctuator)
		if !ok {
			continue
		}
		if err := e.settleTask(t); err != nil {
			return err
		}
		if err := runtime.PunctuateSafely(p, now); err != nil {
			return fmt.Errorf("task %s: wall-clock punctuation: %w", id, err)
		}
	}
	return nil
}
