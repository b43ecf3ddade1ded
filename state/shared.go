package state

import (
	"errors"
	"sync"
	"sync/atomic"
)

// Shared is a Backend that one writer updates while others read it through
// views, as a replica's global table is: the engine applies the table's topic
// from its own goroutine, and every task looks keys up through a View.
//
//	writer ─Put/Delete (lock)─▶ Shared ─▶ Backend (memory or RocksDB)
//	task   ─View.Get (lock, copy into the view's buffer)─┘
//
// A backend's Get result is valid only until its next call, which two
// goroutines cannot promise each other: each view copies the value out under
// the lock into a buffer of its own.
type Shared struct {
	mu      sync.Mutex // a backend's Get may reuse a buffer: reads are exclusive too
	b       Backend
	version atomic.Uint64 // counts the writes: ReadCache forgets what it read when it moves
}

// Version implements Versioned.
func (s *Shared) Version() uint64 { return s.version.Load() }

// NewShared wraps b, which from then on must be used only through the Shared.
func NewShared(b Backend) *Shared { return &Shared{b: b} }

// Put implements Backend.
func (s *Shared) Put(key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.version.Add(1) // after the write: a reader that sees the new version finds it
	return s.b.Put(key, value)
}

// Delete implements Backend.
func (s *Shared) Delete(key []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.version.Add(1)
	return s.b.Delete(key)
}

// Get implements Backend; the result is valid until the next call on s by any
// goroutine, so readers use a View.
func (s *Shared) Get(key []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Get(key)
}

// Range implements Backend, holding the lock throughout.
func (s *Shared) Range(fn func(key, value []byte) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Range(fn)
}

// Locked calls fn with the backend under the lock, for what Backend does not
// offer (MemoryBackend.Len).
func (s *Shared) Locked(fn func(Backend)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.b)
}

// Update runs write, which changes the backend by other means than Put and
// Delete (a RocksDB write batch), under the lock, and counts it as a write.
func (s *Shared) Update(write func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.version.Add(1)
	return write()
}

// View returns a read-only Backend over s for one reader (one goroutine).
func (s *Shared) View() Backend { return &sharedView{s: s} }

// ErrReadOnly is returned by writes to a View of a Shared backend.
var ErrReadOnly = errors.New("state: the store is read-only here")

type sharedView struct {
	s   *Shared
	buf []byte
}

func (v *sharedView) Get(key []byte) ([]byte, bool, error) {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	val, found, err := v.s.b.Get(key)
	if !found || err != nil {
		return nil, found, err
	}
	v.buf = append(v.buf[:0], val...)
	return v.buf, true, nil
}

// Version implements Versioned.
func (v *sharedView) Version() uint64 { return v.s.Version() }

func (v *sharedView) Put(key, value []byte) error { return ErrReadOnly }
func (v *sharedView) Delete(key []byte) error     { return ErrReadOnly }

func (v *sharedView) Range(fn func(key, value []byte) error) error { return v.s.Range(fn) }
