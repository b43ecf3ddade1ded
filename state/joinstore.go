package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// The stores of a windowed stream-stream join (Kafka Streams 3.x):
//
//	left record ──Put──▶ JoinStore (this side)      right record ──Put──▶ JoinStore (other side)
//	            ──Fetch(key, t-before, t+after)──▶ the other side's JoinStore: one result per match
//	            ──no match (left/outer join)──▶ OuterJoinStore, until stream time closes its window
//	                                             (removed there when a later record of the other side matches it)
//
// A JoinStore keeps every record of one side, duplicates included, for
// before + after + grace, in the segmented layout of the window stores
// (segments.go) with two times after the key: the record's time, then a
// sequence number that tells apart records of one key and time. An
// OuterJoinStore keeps the records that have not joined yet, ordered by time
// across keys, so the closed ones are one scan from its start.

// JoinSpec describes a JoinStore. Times are milliseconds.
type JoinSpec struct {
	// Retention is how long a record stays after its time: before + after +
	// grace. Records with time < stream time - Retention + 1 expire.
	Retention int64
	// SegmentInterval is as in WindowSpec (0: DefaultSegmentInterval).
	SegmentInterval int64
}

// JoinStore is one side's buffer of a windowed stream-stream join: every record
// of the side by key and time, duplicates allowed, behind a write-back cache.
type JoinStore[V any] struct {
	s *segmented[V]
}

// NewJoinStore returns a join buffer over b (an OrderedBackend: fetches and
// expiry fail otherwise) with a cache of at most maxEntries records
// (DefaultCacheEntries when maxEntries <= 0). It panics on a retention that is
// not positive (the compiler makes it at least 1 ms).
func NewJoinStore[V any](b Backend, encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), spec JoinSpec, maxEntries int) *JoinStore[V] {
	if spec.Retention <= 0 {
		panic(fmt.Sprintf("state: join store: retention %d: want > 0", spec.Retention))
	}
	return &JoinStore[V]{s: newSegmented(b, encode, decode, spec.Retention, spec.SegmentInterval, 2, maxEntries)}
}

// Put adds the record (key, v) at time ts, after those of the same key and time
// already there. A record older than the retention is not kept: no fetch could
// return it.
func (j *JoinStore[V]) Put(key []byte, ts int64, v V) error {
	if ts < j.s.minTime {
		return nil
	}
	for seq := int64(0); ; seq++ {
		sl, err := j.s.slot(key, ts, seq, true)
		if err != nil {
			return fmt.Errorf("put join record: %w", err)
		}
		if !sl.present {
			j.s.set(sl, timed[V]{v: v, ts: ts}, true)
			return nil
		}
	}
}

// Fetch finds the records of key with from <= time <= to, in time order then
// in the order they were put, the cache's unflushed records included, and
// returns how many; At(i) reads them. Expired records are not found. The
// results stay valid until the next Fetch: Put may be called meanwhile. No
// callback, so a generated join loops over the results without allocating.
func (j *JoinStore[V]) Fetch(key []byte, from, to int64) (int, error) {
	s := j.s
	s.found = s.found[:0]
	from = max(from, s.minTime)
	if from > to {
		return 0, nil
	}
	var hi []byte // exclusive
	if to < math.MaxInt64 {
		hi = appendTime(s.ebufHi[:0], to+1)
		s.ebufHi = hi
	}
	s.ebufLo = appendTime(s.ebufLo[:0], from)
	if err := s.query(key, s.segment(from), s.segment(to), s.ebufLo, hi, joinAll); err != nil {
		return 0, fmt.Errorf("fetch join records: %w", err)
	}
	return len(s.found), nil
}

// joinAll keeps every record a fetch's bounds select.
func joinAll(int64, int64) bool { return true }

// At is the time and value of the i-th record the last Fetch found.
func (j *JoinStore[V]) At(i int) (ts int64, v V) {
	e := &j.s.found[i]
	return e.t1, e.v.v
}

// Expire removes the records with time < streamTime - Retention + 1, a whole
// segment at a time, from the backend (not logged) and from the cache.
func (j *JoinStore[V]) Expire(streamTime int64) error { return j.s.expire(streamTime) }

// Flush writes the new records to the backend.
func (j *JoinStore[V]) Flush() error { return j.s.flush() }

// Len is the number of cached records.
func (j *JoinStore[V]) Len() int { return j.s.cache.Len() }

// OuterJoinStore holds the records of a left or outer join that have joined
// nothing yet, keyed as Kafka Streams' outer join store (time, side, key) so
// that they list in time order, plus a sequence number for records of equal
// time, side and key:
//
//	time (8 bytes) | side (1: left, 0: right) | key | 0x00 | sequence (8 bytes)
//
// The zero byte ends the key, so that at equal times and sides keys list in
// byte order ("a" before "aa") as in Kafka Streams' store, for all keys but
// those with a zero byte followed by more bytes than a shorter key they start with.
//
// The value is the record's encoded value. It writes to its backend directly
// (a changelogged backend logs each change); it has no cache, since most
// records of a busy join match and never come here.
type OuterJoinStore struct {
	b OrderedBackend
	// minTime is at most the smallest time held (math.MaxInt64: none), so
	// EmitClosed costs nothing while no window can have closed.
	minTime int64
	known   bool
	kbuf    []byte
	pending []outerEntry
}

type outerEntry struct {
	key, value []byte // copies
	ts         int64
	left       bool
	storeKey   []byte
}

// NewOuterJoinStore returns the outer join store over b (an OrderedBackend).
func NewOuterJoinStore(b Backend) *OuterJoinStore {
	return &OuterJoinStore{b: orderedOrNot(b)}
}

func sideByte(left bool) byte {
	if left {
		return 1
	}
	return 0
}

// prefix builds time | side | key | 0x00 in o.kbuf.
func (o *OuterJoinStore) prefix(ts int64, left bool, key []byte) []byte {
	o.kbuf = append(append(append(binary.BigEndian.AppendUint64(o.kbuf[:0], uint64(ts)^(1<<63)), sideByte(left)), key...), 0)
	return o.kbuf
}

// Put adds a record of side left (else right) that joined nothing.
func (o *OuterJoinStore) Put(ts int64, left bool, key, value []byte) error {
	p := o.prefix(ts, left, key)
	n := len(p)
	for seq := int64(0); ; seq++ {
		k := appendTime(p[:n], seq)
		_, found, err := o.b.Get(k)
		if err != nil {
			return fmt.Errorf("outer join store: %w", err)
		}
		if !found {
			if err := o.b.Put(k, value); err != nil {
				return fmt.Errorf("outer join store: %w", err)
			}
			o.kbuf = k
			if o.known {
				o.minTime = min(o.minTime, ts)
			}
			return nil
		}
		p = k
	}
}

// Remove removes the records of side left (else right) with key and time ts:
// a record of the other side has just joined them.
func (o *OuterJoinStore) Remove(ts int64, left bool, key []byte) error {
	p := bytes.Clone(o.prefix(ts, left, key))
	var gone [][]byte
	err := o.b.Scan(p, prefixEnd(p), func(k, _ []byte) error {
		if len(k) == len(p)+8 { // not a longer key that starts with this one
			gone = append(gone, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range gone {
		if err == nil {
			err = o.b.Delete(k)
		}
	}
	if err != nil {
		return fmt.Errorf("outer join store: %w", err)
	}
	return nil
}

// EmitClosed calls fn, in time order, for the records whose window has closed
// by streamTime: those with time + lookBack(side) < streamTime, where
// lookBack(side) is after + grace for the left side and before + grace for the
// right. As Kafka Streams 3.8+ does (KAFKA-15417), a record still open does not
// hold back the other side's closed records after it: with asymmetric
// look-backs a right record may close before an earlier left one. The scan
// stops where every later record, of either side, is open. A record is
// removed once fn has returned without error. key and value are valid only
// during fn. A left join, which holds no right records, passes its left
// look-back for both, so that its scan stops at the first open record.
func (o *OuterJoinStore) EmitClosed(streamTime, leftLookBack, rightLookBack int64, fn func(ts int64, left bool, key, value []byte) error) error {
	if o.known && (o.minTime == math.MaxInt64 || o.minTime+min(leftLookBack, rightLookBack) >= streamTime) {
		return nil
	}
	o.pending = o.pending[:0]
	o.minTime, o.known = math.MaxInt64, true
	err := o.b.Scan(nil, nil, func(k, v []byte) error {
		if len(k) < 18 {
			return fmt.Errorf("outer join store: key of %d bytes", len(k))
		}
		ts, left := readTime(k), k[8] == 1
		lookBack := rightLookBack
		if left {
			lookBack = leftLookBack
		}
		if ts+lookBack >= streamTime {
			// Open, and so is every later record of its side.
			o.minTime = min(o.minTime, ts)
			if ts+leftLookBack >= streamTime && ts+rightLookBack >= streamTime {
				return errStop
			}
			return nil
		}
		o.pending = append(o.pending, outerEntry{ts: ts, left: left, key: bytes.Clone(k[9 : len(k)-9]), value: bytes.Clone(v), storeKey: bytes.Clone(k)})
		return nil
	})
	if err != nil && err != errStop {
		o.known = false
		return fmt.Errorf("outer join store: %w", err)
	}
	for i, e := range o.pending {
		if err := fn(e.ts, e.left, e.key, e.value); err != nil {
			o.known = false
			return err
		}
		if err := o.b.Delete(e.storeKey); err != nil {
			o.known = false
			return fmt.Errorf("outer join store: %w", err)
		}
		o.pending[i] = outerEntry{}
	}
	return nil
}

// Flush does nothing: the store writes through. It is here so that the
// generated task flushes every store alike.
func (o *OuterJoinStore) Flush() error { return nil }
