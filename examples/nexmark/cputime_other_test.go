//go:build !unix

package main

import "time"

// cpuTime is not measured here: events/cpu-s is then left out.
func cpuTime() time.Duration { return 0 }
