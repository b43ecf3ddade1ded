package runtime

import (
	"errors"
	"fmt"
	"time"

	"github.com/gofka/streams/state"
)

// This file holds what the processor functions of the DSL's KStream.Process see
// at run time. The streams package names the same types (streams.ProcessorContext
// is ProcessorContext), so user code imports only the DSL.
//
// Data flow through one Process step, all of it generated code calling directly:
//
//	record ─▶ ctx.Begin ─▶ user function(ctx, key, value, stores...) ─▶ ctx.Forwarded() ─▶ rest of the chain
//	stream time passes a timer ─▶ ctx.Begin ─▶ onTimer(ctx, timer, stores...) ─▶ ctx.Forwarded() ─▶ rest of the chain
//
// The context buffers what the user forwards; the generated code runs the rest
// of the fused chain over the buffer once the user function has returned, so no
// forwarded record is seen downstream before the function succeeded.

// ProcessorContext is the handle a processor function is given: it forwards
// records to the rest of the topology and registers timers. KOut and VOut are the
// key and value types of the stream that Process returns. Its methods are valid
// only during the call.
type ProcessorContext[KOut, VOut any] struct {
	out        []Forwarded[KOut, VOut]
	timestamp  int64
	streamTime int64
	key        []byte // the encoded key timers are registered for; nil in a punctuator
	timers     *Timers
}

// Forwarded is one record a processor forwarded.
type Forwarded[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
}

// NewProcessorContext is called by generated code: timers is the processor's
// timer store, or nil if the processor registers none.
func NewProcessorContext[KOut, VOut any](timers *Timers) ProcessorContext[KOut, VOut] {
	return ProcessorContext[KOut, VOut]{timers: timers}
}

// Begin is called by generated code before a timer or punctuator function
// runs: the time it fires for, the task's stream time, and the encoded key of
// the timer (nil for a punctuator, which has no current key), valid during the
// call.
func (c *ProcessorContext[KOut, VOut]) Begin(timestamp, streamTime int64, key []byte) {
	c.out = c.out[:0]
	c.timestamp, c.streamTime, c.key = timestamp, streamTime, key
}

// BeginRecord is Begin for a record, whose encoded key (nil for a record
// without a key) timers are registered for.
func (c *ProcessorContext[KOut, VOut]) BeginRecord(timestamp, streamTime int64, key []byte) {
	if key == nil {
		key = noKey
	}
	c.Begin(timestamp, streamTime, key)
}

var noKey = []byte{}

// Forwarded is called by generated code after the processor function returned:
// the records it forwarded, in order.
func (c *ProcessorContext[KOut, VOut]) Forwarded() []Forwarded[KOut, VOut] { return c.out }

// Forward sends a record on with the time of the record being processed (in a
// timer or punctuator, the time it fires for), as Kafka Streams' forward does.
func (c *ProcessorContext[KOut, VOut]) Forward(key KOut, value VOut) {
	c.out = append(c.out, Forwarded[KOut, VOut]{key, value, c.timestamp})
}

// ForwardAt sends a record on with timestamp t.
func (c *ProcessorContext[KOut, VOut]) ForwardAt(key KOut, value VOut, t time.Time) {
	c.out = append(c.out, Forwarded[KOut, VOut]{key, value, t.UnixMilli()})
}

// Timestamp is the time of the record being processed; in a timer, the timer's
// time; in a punctuator, the time of the punctuation.
func (c *ProcessorContext[KOut, VOut]) Timestamp() time.Time { return time.UnixMilli(c.timestamp) }

// StreamTime is the task's stream time: the largest record timestamp it has read.
func (c *ProcessorContext[KOut, VOut]) StreamTime() time.Time { return time.UnixMilli(c.streamTime) }

// RegisterEventTimeTimer sets a timer for the current key (the record's, or in
// a timer the timer's) that fires once stream time reaches t. A key has at most
// one timer per time and domain: registering it again changes nothing.
func (c *ProcessorContext[KOut, VOut]) RegisterEventTimeTimer(t time.Time) error {
	return c.timer(EventTime, t, true)
}

// DeleteEventTimeTimer removes the current key's event-time timer at t, if any.
func (c *ProcessorContext[KOut, VOut]) DeleteEventTimeTimer(t time.Time) error {
	return c.timer(EventTime, t, false)
}

// RegisterProcessingTimeTimer sets a timer for the current key that fires once
// wall-clock time reaches t.
func (c *ProcessorContext[KOut, VOut]) RegisterProcessingTimeTimer(t time.Time) error {
	return c.timer(ProcessingTime, t, true)
}

// DeleteProcessingTimeTimer removes the current key's processing-time timer at t, if any.
func (c *ProcessorContext[KOut, VOut]) DeleteProcessingTimeTimer(t time.Time) error {
	return c.timer(ProcessingTime, t, false)
}

func (c *ProcessorContext[KOut, VOut]) timer(d TimeDomain, t time.Time, register bool) error {
	switch {
	case c.timers == nil:
		return fmt.Errorf("%s timer: this processor has no OnTimer function (streams.Processor(f).OnTimer(g))", d)
	case c.key == nil:
		return fmt.Errorf("%s timer: a punctuator has no current key", d)
	case t.UnixMilli() < 0:
		return fmt.Errorf("%s timer at %d: before the Unix epoch", d, t.UnixMilli())
	}
	if register {
		c.timers.Register(d, t.UnixMilli(), c.key)
	} else {
		c.timers.Delete(d, t.UnixMilli(), c.key)
	}
	return nil
}

// Timer is a per-key timer that fired, as an OnTimer function receives it.
type Timer[K any] struct {
	Key    K
	Time   time.Time
	Domain TimeDomain
}

// ProcessorStore is a processor's typed key-value store: a write-back cache
// over the store's backend, flushed (and so written to its changelog) at every
// commit, like the store of an aggregation.
type ProcessorStore[K, V any] struct {
	cache     *state.Cache[V]
	backend   state.Backend
	encodeKey func([]byte, K) ([]byte, error)
	decodeKey func([]byte) (K, error)
	decode    func([]byte) (V, error)
	keyBuf    []byte
	ranging   bool // inside Range, which writes must not disturb
}

// NewProcessorStore is called by generated code with the store's backend and the
// serdes of its keys and values.
func NewProcessorStore[K, V any](b state.Backend, encodeKey func([]byte, K) ([]byte, error), decodeKey func([]byte) (K, error),
	encode func([]byte, V) ([]byte, error), decode func([]byte) (V, error), maxEntries int,
) *ProcessorStore[K, V] {
	return &ProcessorStore[K, V]{cache: state.NewCache(b, encode, decode, maxEntries), backend: b,
		encodeKey: encodeKey, decodeKey: decodeKey, decode: decode}
}

func (s *ProcessorStore[K, V]) encode(key K) ([]byte, error) {
	b, err := s.encodeKey(s.keyBuf[:0], key)
	if err != nil {
		return nil, fmt.Errorf("encode store key: %w", err)
	}
	s.keyBuf = b
	return b, nil
}

// Get returns the value stored under key, and whether there is one.
func (s *ProcessorStore[K, V]) Get(key K) (V, bool, error) {
	b, err := s.encode(key)
	if err != nil {
		var zero V
		return zero, false, err
	}
	return s.cache.Get(b)
}

// Put stores value under key.
func (s *ProcessorStore[K, V]) Put(key K, value V) error {
	if s.ranging {
		return errWriteInRange
	}
	b, err := s.encode(key)
	if err != nil {
		return err
	}
	return s.cache.Put(b, value)
}

// Delete removes key.
func (s *ProcessorStore[K, V]) Delete(key K) error {
	if s.ranging {
		return errWriteInRange
	}
	b, err := s.encode(key)
	if err != nil {
		return err
	}
	return s.cache.Delete(b)
}

// Range calls fn for every entry, in the order of the encoded keys (for a
// string key, its byte order), until fn returns an error, which Range returns.
// It first writes the cached changes to the backend (and its changelog), as a
// commit would, then reads the backend: a scan costs as many reads as the store
// has entries. fn must not Put or Delete: collect the keys, and change them after.
func (s *ProcessorStore[K, V]) Range(fn func(key K, value V) error) error {
	if err := s.cache.Flush(); err != nil {
		return err
	}
	s.ranging = true
	defer func() { s.ranging = false }()
	return s.backend.Range(func(kb, vb []byte) error {
		k, err := s.decodeKey(kb)
		if err != nil {
			return fmt.Errorf("decode store key %q: %w", kb, err)
		}
		v, err := s.decode(vb)
		if err != nil {
			return fmt.Errorf("decode store value of key %q: %w", kb, err)
		}
		return fn(k, v)
	})
}

var errWriteInRange = errors.New("a store cannot be changed inside its Range: collect the keys, and change them after")

// Flush writes the cached changes to the backend; the task's Flush calls it.
func (s *ProcessorStore[K, V]) Flush() error { return s.cache.Flush() }

// Punctuator is a task whose processors act on wall-clock time (punctuators on
// wall-clock time, processing-time timers). A runner calls Punctuate from the
// goroutine that calls Process, with the current wall-clock time in milliseconds
// since the Unix epoch: the engine after every poll (so at least every 100 ms,
// with or without input), streamstest when a test advances its wall clock. Its
// errors are as fatal as Process's.
type Punctuator interface {
	Punctuate(nowMs int64) error
}

// PunctuateSafely calls p.Punctuate and turns a panic in a user function into
// an error.
func PunctuateSafely(p Punctuator, nowMs int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in user function: %v", r)
		}
	}()
	return p.Punctuate(nowMs)
}
