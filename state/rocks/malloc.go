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

// mmapThreshold fixes the size from which glibc serves an allocation with a
// mapping of its own, returned to the system when freed. glibc starts at 128
// KiB but raises the threshold each time such a block is freed (up to 32
// MiB), after which memtable arena blocks (64 KiB–1 MiB) and compaction
// buffers come from the arenas and their freed space stays resident. Setting
// it stops the raising (mallopt(3)). MALLOC_MMAP_THRESHOLD_ wins.
const mmapThreshold = 128 << 10

func init() {
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.mallopt(C.M_ARENA_MAX, C.int(mallocArenas))
	}
	if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
		C.mallopt(C.M_MMAP_THRESHOLD, C.int(mmapThreshold))
	}
}

// ReleaseFreeMemory returns to the system the free pages inside the C
// allocator's arenas (malloc_trim(3)): what RocksDB freed but glibc keeps for
// reuse. It walks every arena under its lock, so it is for the rare moment
// the process nears its memory budget, not for every commit.
func ReleaseFreeMemory() { C.malloc_trim(0) }
