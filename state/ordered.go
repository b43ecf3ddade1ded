package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OrderedBackend is a Backend that can also read and remove key ranges in byte
// order: what the window, session and suppression stores need, since they lay
// out their keys so that a query is one ordered scan and expiry one range
// removal. MemoryBackend and RocksDB's Store implement it; Logged forwards it.
type OrderedBackend interface {
	Backend
	// Scan calls fn for every entry with from <= key < to in key order (to nil:
	// to the end) until fn returns an error, which Scan returns. key and value are
	// valid only during fn. fn may call the backend's other methods; entries
	// written or removed meanwhile may or may not be seen.
	Scan(from, to []byte, fn func(key, value []byte) error) error
	// DeleteRange removes every entry with from <= key < to (to nil: to the
	// end). Logged does NOT send it to the changelog: it is for expiry, whose
	// removals the changelog's own retention makes (cleanup.policy=compact,delete).
	DeleteRange(from, to []byte) error
}

// ErrNotOrdered is returned by Logged's Scan and DeleteRange when the backend it
// wraps is not an OrderedBackend.
var ErrNotOrdered = errors.New("state: backend does not support ordered scans")

// Scan implements OrderedBackend by forwarding to the wrapped backend.
func (l *Logged) Scan(from, to []byte, fn func(key, value []byte) error) error {
	o, ok := l.Backend.(OrderedBackend)
	if !ok {
		return fmt.Errorf("%w: %T", ErrNotOrdered, l.Backend)
	}
	return o.Scan(from, to, fn)
}

// DeleteRange implements OrderedBackend by forwarding to the wrapped backend,
// without logging (see OrderedBackend.DeleteRange).
func (l *Logged) DeleteRange(from, to []byte) error {
	o, ok := l.Backend.(OrderedBackend)
	if !ok {
		return fmt.Errorf("%w: %T", ErrNotOrdered, l.Backend)
	}
	return o.DeleteRange(from, to)
}

// appendTime appends t as 8 bytes that sort as t does (big-endian, sign bit
// flipped), so negative times sort before positive ones.
func appendTime(dst []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

// readTime reads what appendTime wrote.
func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }
