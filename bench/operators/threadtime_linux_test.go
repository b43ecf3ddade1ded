package operators

import "syscall"

// threadTime is the CPU time the calling thread has used, in nanoseconds.
func threadTime() int64 { return rusageTime(1) } // RUSAGE_THREAD

// processTime is the CPU time all threads of the process have used, in
// nanoseconds: it includes the garbage collector's background workers, which
// threadTime does not see.
func processTime() int64 { return rusageTime(syscall.RUSAGE_SELF) }

func rusageTime(who int) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic("getrusage: " + err.Error())
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
