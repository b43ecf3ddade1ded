package state

import (
	"encoding/binary"
	"fmt"
)

// SubscriptionStore is the right task's store of a foreign-key join
// (ir/fkjoin.go): for each foreign key, the left rows subscribed to it (their
// keys) with the hash of each row's value. A subscription arrives as Put or
// Delete; a change of the right row reads every subscriber of its key, which
// the key layout makes one ordered scan:
//
//	4-byte big-endian length of the foreign key | foreign key | left key  →  hash
//
// Writes go straight to the backend (a Logged one sends them to the
// changelog), so Flush has nothing to do.
type SubscriptionStore struct {
	b    Backend
	key  []byte
	subs []Subscription
	buf  []byte // the subscribers' bytes of the last Subscribers call
}

// Subscription is one subscriber of a foreign key.
type Subscription struct{ LeftKey, Hash []byte }

// NewSubscriptionStore returns the store over b, which must be an
// OrderedBackend for Subscribers.
func NewSubscriptionStore(b Backend) *SubscriptionStore { return &SubscriptionStore{b: b} }

func (s *SubscriptionStore) prefix(fk []byte) []byte {
	s.key = binary.BigEndian.AppendUint32(s.key[:0], uint32(len(fk)))
	return append(s.key, fk...)
}

// Put records that the left row leftKey, whose value hashes to hash,
// subscribes to fk.
func (s *SubscriptionStore) Put(fk, leftKey, hash []byte) error {
	return s.b.Put(append(s.prefix(fk), leftKey...), hash)
}

// Delete removes the subscription of leftKey to fk.
func (s *SubscriptionStore) Delete(fk, leftKey []byte) error {
	return s.b.Delete(append(s.prefix(fk), leftKey...))
}

// Subscribers returns the subscribers of fk in left-key byte order. The result
// and its bytes are valid until the next call.
func (s *SubscriptionStore) Subscribers(fk []byte) ([]Subscription, error) {
	o, ok := s.b.(OrderedBackend)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNotOrdered, s.b)
	}
	p := s.prefix(fk)
	from := append([]byte(nil), p...)
	s.subs, s.buf = s.subs[:0], s.buf[:0]
	type span struct{ k0, k1, h1 int }
	var spans []span
	err := o.Scan(from, prefixEnd(from), func(key, value []byte) error {
		k0 := len(s.buf)
		s.buf = append(s.buf, key[len(from):]...)
		k1 := len(s.buf)
		s.buf = append(s.buf, value...)
		spans = append(spans, span{k0, k1, len(s.buf)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, sp := range spans { // slices taken once buf no longer grows
		s.subs = append(s.subs, Subscription{LeftKey: s.buf[sp.k0:sp.k1:sp.k1], Hash: s.buf[sp.k1:sp.h1:sp.h1]})
	}
	return s.subs, nil
}

// Flush implements the task's store flush: writes are not cached.
func (s *SubscriptionStore) Flush() error { return nil }
