//go:build !(linux && cgo)

package rocks

// ReleaseFreeMemory returns the C allocator's free pages to the system where
// it can (glibc, malloc.go); elsewhere it does nothing.
func ReleaseFreeMemory() {}
