package state

import (
	"fmt"
	"math"
)

// SessionSpec describes a session store. Times are milliseconds.
type SessionSpec struct {
	// Retention is how long a session stays after its end: inactivity gap +
	// grace. A session with end < stream time - Retention is expired: that is
	// when it closes (Kafka Streams' rule, end + gap + grace < stream time),
	// and until then a record may still join it.
	Retention int64
	// SegmentInterval is as in WindowSpec (0: DefaultSegmentInterval), over
	// session ends.
	SegmentInterval int64
}

// SessionStore is the store of a session-windowed aggregation: one value per
// key and session [start, end], laid out as Kafka Streams' session key schema
// (by end, then start) in time segments of the end (segments.go), behind a
// write-back cache. A record of key at time t finds the sessions it joins with
// FindSessions(key, t-gap, t+gap), removes them and puts the merged one.
type SessionStore[V any] struct {
	s *segmented[V]
}

// NewSessionStore returns a session store over b (an OrderedBackend: queries and
// expiry fail otherwise) with a cache of at most maxEntries sessions
// (DefaultCacheEntries when maxEntries <= 0). It panics on a retention that is
// not positive (the compiler refuses such a gap).
func NewSessionStore[V any](b Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), spec SessionSpec, maxEntries int) *SessionStore[V] {
	if spec.Retention <= 0 {
		panic(fmt.Sprintf("state: session store: retention %d: want > 0", spec.Retention))
	}
	return &SessionStore[V]{s: newSegmented(b, encode, decode, spec.Retention, spec.SegmentInterval, 2, maxEntries)}
}

// FindSessions calls fn for each session of key with end >= earliestEnd and
// start <= latestStart (Kafka Streams' findSessions), ordered by end then start,
// the cache's unflushed changes included, until fn returns an error. Expired
// sessions are not listed. fn may call Put and Remove (it sees the sessions as
// they were when FindSessions began) but not FindSessions.
func (ss *SessionStore[V]) FindSessions(key []byte, earliestEnd, latestStart int64, fn func(start, end int64, v V, ts int64) error) error {
	s := ss.s
	earliestEnd = max(earliestEnd, s.minTime)
	keep := func(_, start int64) bool { return start <= latestStart }
	// A session's end is not bounded by latestStart: scan every segment from earliestEnd's.
	if err := s.query(key, s.segment(earliestEnd), math.MaxInt64, appendTime(nil, earliestEnd), nil, keep); err != nil {
		return fmt.Errorf("find sessions: %w", err)
	}
	return s.results(func(e *entry[V]) error { return fn(e.t2, e.t1, e.v.v, e.v.ts) })
}

// Put stores v as the value of key's session [start, end], with ts the latest
// timestamp of its records; the backend sees it at the next Flush.
func (ss *SessionStore[V]) Put(key []byte, start, end int64, v V, ts int64) error {
	if start > end {
		return fmt.Errorf("put session: start %d after end %d", start, end)
	}
	sl, err := ss.s.slot(key, end, start, false)
	if err != nil {
		return err
	}
	ss.s.set(sl, timed[V]{v: v, ts: ts}, true)
	return nil
}

// Remove removes key's session [start, end]; the backend sees it at the next Flush.
func (ss *SessionStore[V]) Remove(key []byte, start, end int64) error {
	sl, err := ss.s.slot(key, end, start, false)
	if err != nil {
		return err
	}
	ss.s.set(sl, timed[V]{}, false)
	return nil
}

// Expire removes the sessions with end < streamTime - Retention, the closed
// ones, a whole segment at a time, from the backend (not logged) and from the
// cache. (The segmented core keeps times >= its argument - Retention + 1, as a
// window store does; a session is kept one millisecond longer.)
func (ss *SessionStore[V]) Expire(streamTime int64) error {
	if streamTime == math.MinInt64 {
		return nil
	}
	return ss.s.expire(streamTime - 1)
}

// Flush writes the changed sessions to the backend.
func (ss *SessionStore[V]) Flush() error { return ss.s.flush() }

// Len is the number of cached sessions.
func (ss *SessionStore[V]) Len() int { return ss.s.cache.Len() }
