//go:build !race

package enginetest

// RaceEnabled: see race_on.go.
const RaceEnabled = false
