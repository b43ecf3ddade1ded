//go:build !linux

package operators

import "time"

var epoch = time.Now()

// threadTime is wall-clock time in nanoseconds: without Linux's per-thread CPU
// time, time a pass spent descheduled is counted too.
func threadTime() int64 { return int64(time.Since(epoch)) }

// processTime is wall-clock time in nanoseconds too, for the same reason.
func processTime() int64 { return int64(time.Since(epoch)) }
