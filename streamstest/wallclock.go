package streamstest

import (
	"fmt"
	"time"

	"github.com/gofka/streams/runtime"
)

// WallClockTime is the driver's wall clock, in milliseconds since the Unix
// epoch: what tasks' wall-clock punctuators and processing-time timers see. It
// starts at WithStartTime's time and moves only with AdvanceWallClockTime, so
// tests of wall-clock behaviour are deterministic.
func (d *Driver) WallClockTime() int64 { return d.wall }

// AdvanceWallClockTime moves the wall clock forward by step and gives the new
// time to every task that acts on it (runtime.Punctuator), in sub-topology then
// partition order, as the engine does after a poll. What they emit is processed
// as piped records are (records written to repartition topics are read back),
// then every task is flushed. It does not change the timestamps of piped records
// (AdvanceTime does). The result is the failures, as for PipeRaw.
func (d *Driver) AdvanceWallClockTime(step time.Duration) error {
	if d.closed {
		return fmt.Errorf("streamstest: advance wall-clock time: driver is closed")
	}
	if step < 0 {
		return fmt.Errorf("streamstest: advance wall-clock time by %s: the clock does not go back", step)
	}
	d.wall += step.Milliseconds()
	var errs []error
	for si, tasks := range d.tasks {
		for part, task := range tasks {
			p, ok := task.(runtime.Punctuator)
			if !ok {
				continue
			}
			d.cur = d.wall
			err := runtime.PunctuateSafely(p, d.wall)
			d.logChangelog()
			if err != nil {
				errs = append(errs, fmt.Errorf("streamstest: punctuate sub-topology %d partition %d: %w", d.p.SubTopologies[si].ID, part, err))
			}
		}
	}
	if err := d.run(); err != nil {
		errs = append(errs, err)
	}
	return joinErrors(errs)
}
