//go:build linux && cgo

package rocks

/*
#include <malloc.h>
*/
import "C"

import "os"

// mallocArenas caps glibc's malloc arenas, which RocksDB's memory comes from.
// glibc gives threads arenas of their own, up to 8 per core, and an arena
// keeps what was freed in it for that arena's threads: with RocksDB's flush
// and compaction threads and the Go threads that call into it, a replica
// counting 10M keys under --memory 128MiB held nine arenas of 9–12 MB each
// (/proc/PID/smaps), about 100 MB against the 48 MiB of its block cache and
// memtables. Two arenas keep the threads from all contending for one lock.
// MALLOC_ARENA_MAX in the environment, which glibc has already applied, wins.
const mallocArenas = 2

func init() {
	if os.Getenv("MALLOC_ARENA_MAX") != "" {
		return
	}
	C.mallopt(C.M_ARENA_MAX, C.int(mallocArenas))
}
