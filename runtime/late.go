package runtime

import "sync/atomic"

// LateCounter counts one task's late records: records a windowed aggregation did
// not add because every window they fall in had closed (end plus grace passed
// by stream time). Generated code increments it; the runner reads it for
// /metrics and /status. A nil *LateCounter counts nothing, so a runner that does
// not report late records need not make one.
type LateCounter struct{ n atomic.Int64 }

// Inc counts one late record.
func (c *LateCounter) Inc() {
	if c != nil {
		c.n.Add(1)
	}
}

// Load returns the count so far.
func (c *LateCounter) Load() int64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}
