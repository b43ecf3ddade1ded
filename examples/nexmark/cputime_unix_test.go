//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far (user + system, every
// thread): on a shared machine it counts only what this process ran, not the
// time it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
