package streams

import (
	"encoding/binary"
	"fmt"
	"time"
)

// TimeWindowedSerde is the default serde of Windowed[K] keys from tumbling,
// hopping, sliding and count windows. It writes what Kafka Streams'
// TimeWindowedSerializer writes, so a Kafka Streams application (or its
// TimeWindowedDeserializer) reads our windowed output and we read its:
//
//	inner key bytes | window start, ms since the epoch, 8 bytes big-endian
//
// The end is not written; Decode rebuilds it as start + Size, as Kafka's
// deserializer does from its window size.
type TimeWindowedSerde[K any, S Serde[K]] struct {
	Inner S             // the serde of the plain key
	Size  time.Duration // the window size, to rebuild End
}

// Encode appends the inner key's bytes, then the start in milliseconds.
func (s TimeWindowedSerde[K, S]) Encode(dst []byte, w Windowed[K]) ([]byte, error) {
	dst, err := s.Inner.Encode(dst, w.Key)
	if err != nil {
		return dst, err
	}
	return binary.BigEndian.AppendUint64(dst, uint64(w.Start.UnixMilli())), nil
}

// EncodeStart is Encode of the window of key starting at start (ms since the
// epoch): the same bytes, without the time.Time round trip. Generated code
// calls it when it has the start at hand.
func (s TimeWindowedSerde[K, S]) EncodeStart(dst []byte, key K, start int64) ([]byte, error) {
	dst, err := s.Inner.Encode(dst, key)
	if err != nil {
		return dst, err
	}
	return binary.BigEndian.AppendUint64(dst, uint64(start)), nil
}

// Decode splits off the last 8 bytes as the start and decodes the rest as the key.
func (s TimeWindowedSerde[K, S]) Decode(data []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(data) < 8 {
		return w, fmt.Errorf("time-windowed key: want at least 8 bytes, got %d", len(data))
	}
	n := len(data) - 8
	key, err := s.Inner.Decode(data[:n])
	if err != nil {
		return w, err
	}
	start := int64(binary.BigEndian.Uint64(data[n:]))
	w.Key, w.Start, w.End = key, time.UnixMilli(start).UTC(), time.UnixMilli(start+s.Size.Milliseconds()).UTC()
	return w, nil
}

// SessionWindowedSerde is the default serde of Windowed[K] keys from session
// windows. It writes what Kafka Streams' SessionWindowedSerializer writes:
//
//	inner key bytes | session end, 8 bytes | session start, 8 bytes
//
// both in milliseconds since the epoch, big-endian; a session's end is the time
// of its last record.
type SessionWindowedSerde[K any, S Serde[K]] struct {
	Inner S
}

// Encode appends the inner key's bytes, then the end and the start.
func (s SessionWindowedSerde[K, S]) Encode(dst []byte, w Windowed[K]) ([]byte, error) {
	dst, err := s.Inner.Encode(dst, w.Key)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(w.End.UnixMilli()))
	return binary.BigEndian.AppendUint64(dst, uint64(w.Start.UnixMilli())), nil
}

// Decode splits off the last 16 bytes as end and start and decodes the rest as the key.
func (s SessionWindowedSerde[K, S]) Decode(data []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(data) < 16 {
		return w, fmt.Errorf("session-windowed key: want at least 16 bytes, got %d", len(data))
	}
	n := len(data) - 16
	key, err := s.Inner.Decode(data[:n])
	if err != nil {
		return w, err
	}
	end := int64(binary.BigEndian.Uint64(data[n:]))
	start := int64(binary.BigEndian.Uint64(data[n+8:]))
	w.Key, w.Start, w.End = key, time.UnixMilli(start).UTC(), time.UnixMilli(end).UTC()
	return w, nil
}

// CountWindowed is what a count-windowed aggregation keeps per key: how many of
// the key's records it has seen, the first and the latest record time of the
// current window, and the current window's aggregate. Generated code uses it; its
// serde is CountWindowedSerde.
type CountWindowed[A any] struct {
	Seen       int64
	Start, End int64 // ms since the epoch
	Agg        A
}

// CountWindowedSerde encodes a CountWindowed[A] as Seen, Start and End (8 bytes
// big-endian each), then the aggregate with Inner.
type CountWindowedSerde[A any, S Serde[A]] struct {
	Inner S
}

// Encode appends the three counters, then the aggregate.
func (s CountWindowedSerde[A, S]) Encode(dst []byte, c CountWindowed[A]) ([]byte, error) {
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Seen))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Start))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.End))
	return s.Inner.Encode(dst, c.Agg)
}

// Decode reads what Encode writes.
func (s CountWindowedSerde[A, S]) Decode(data []byte) (CountWindowed[A], error) {
	var c CountWindowed[A]
	if len(data) < 24 {
		return c, fmt.Errorf("count window state: want at least 24 bytes, got %d", len(data))
	}
	agg, err := s.Inner.Decode(data[24:])
	if err != nil {
		return c, err
	}
	c.Seen, c.Start, c.End = int64(binary.BigEndian.Uint64(data)), int64(binary.BigEndian.Uint64(data[8:])), int64(binary.BigEndian.Uint64(data[16:]))
	c.Agg = agg
	return c, nil
}
