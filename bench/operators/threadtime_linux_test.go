package operators

import "syscall"

// threadTime is the CPU time the calling thread has used, in nanoseconds.
func threadTime() int64 {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic("getrusage(RUSAGE_THREAD): " + err.Error())
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
