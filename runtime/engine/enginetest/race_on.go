//go:build race

package enginetest

// RaceEnabled: under the race detector allocation counts mean nothing
// (sync.Pool drops items at random, on purpose), so tests measure but do not
// hold the engine to MaxRuntimeAllocsPerRecord.
const RaceEnabled = true
