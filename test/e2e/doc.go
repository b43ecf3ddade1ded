// Package e2e holds end-to-end tests: they build examples/clickcount into a real
// binary and run it, and a standalone development broker made from the same
// binary, as separate processes on 127.0.0.1, then check what the application
// wrote against expectations computed in the tests. Run them with
//
//	go test ./test/e2e -count=1 -v
//
// TestKcatIndependentClient also needs kcat on PATH (make deps installs it).
package e2e
