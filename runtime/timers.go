package runtime

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/gofka/streams/state"
)

// TimeDomain says which clock a timer or punctuator follows.
type TimeDomain uint8

const (
	// EventTime is the task's stream time (the largest record timestamp read):
	// Kafka Streams' PunctuationType.STREAM_TIME, Flink's event-time timers.
	EventTime TimeDomain = iota
	// ProcessingTime is wall-clock time, as the runner gives it to Punctuate:
	// Kafka Streams' WALL_CLOCK_TIME, Flink's processing-time timers.
	ProcessingTime
)

func (d TimeDomain) String() string {
	if d == EventTime {
		return "event-time"
	}
	return "processing-time"
}

// Timers are the timers and punctuation schedules of one processor in one task,
// kept in a store of their own so that they survive restarts and moves as any
// store does: every change is written to the backend (and so to the changelog)
// at Flush, and a new task reads them all back on first use (Load).
//
// Backend layout, ordered so that a Range reads each domain in firing order:
//
//	'e' | time (8 bytes, big-endian) | encoded key  →  empty   an event-time timer
//	'p' | time (8 bytes, big-endian) | encoded key  →  empty   a processing-time timer
//	's' | punctuator index (1 byte)                 →  time    when that punctuator fires next
//
// In memory each domain's timers are a min-heap by (time, key), with a set of
// the live ones: a deleted timer stays in the heap and is skipped when it
// reaches the top.
type Timers struct {
	backend     state.Backend
	loaded      bool
	heaps       [2]timerHeap
	live        map[string]bool // backend keys of the registered timers
	dirty       map[string]bool // backend keys changed since Flush: true put, false delete
	punctuators []Punctuation
	next        []int64  // per punctuator: when it fires next; 0 before the first time is known
	due         [2]int64 // per domain: the earliest time anything may fire (a lower bound)
	buf         [9 + 64]byte
}

// Punctuation is one punctuator's schedule: every Interval milliseconds of Domain.
type Punctuation struct {
	Domain   TimeDomain
	Interval int64
}

// NewTimers is called by generated code with the processor's timer store and
// its punctuators, in the order the topology lists them.
func NewTimers(b state.Backend, punctuators ...Punctuation) *Timers {
	t := &Timers{backend: b, live: map[string]bool{}, dirty: map[string]bool{}, punctuators: punctuators, next: make([]int64, len(punctuators))}
	t.due = [2]int64{math.MinInt64, math.MinInt64} // Load first
	return t
}

// Due reports whether anything of domain d may fire at now; it is cheap, so the
// generated code calls it before every record.
func (t *Timers) Due(d TimeDomain, now int64) bool { return now >= t.due[d] }

// Load reads the timers back from the backend once; later calls do nothing.
func (t *Timers) Load() error {
	if t.loaded {
		return nil
	}
	err := t.backend.Range(func(key, value []byte) error {
		switch {
		case len(key) >= 9 && (key[0] == 'e' || key[0] == 'p'):
			d := EventTime
			if key[0] == 'p' {
				d = ProcessingTime
			}
			t.live[string(key)] = true
			t.heaps[d].push(timerEntry{int64(binary.BigEndian.Uint64(key[1:9])), string(key[9:])})
		case len(key) == 2 && key[0] == 's' && len(value) == 8:
			if i := int(key[1]); i < len(t.next) {
				t.next[i] = int64(binary.BigEndian.Uint64(value))
			}
		default:
			return fmt.Errorf("timer store: unexpected entry %q", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load timers: %w", err)
	}
	t.loaded = true
	t.updateDue()
	return nil
}

func (t *Timers) backendKey(d TimeDomain, ts int64, key []byte) string {
	b := append(t.buf[:0], "ep"[d])
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	return string(append(b, key...))
}

// Register adds a timer of domain d at ts for key (copied).
func (t *Timers) Register(d TimeDomain, ts int64, key []byte) {
	k := t.backendKey(d, ts, key)
	if t.live[k] {
		return
	}
	t.live[k] = true
	t.dirty[k] = true
	t.heaps[d].push(timerEntry{ts, k[9:]})
	t.due[d] = min(t.due[d], ts)
}

// Delete removes the timer of domain d at ts for key, if there is one.
func (t *Timers) Delete(d TimeDomain, ts int64, key []byte) {
	k := t.backendKey(d, ts, key)
	if t.live[k] {
		delete(t.live, k)
		t.dirty[k] = false
	}
}

// PopDue removes and returns the earliest live timer of domain d at or before
// now, if any: timers fire in time order, and equal times in key order.
func (t *Timers) PopDue(d TimeDomain, now int64) (key []byte, ts int64, ok bool) {
	h := &t.heaps[d]
	for len(*h) > 0 && (*h)[0].ts <= now {
		e := h.pop()
		b := binary.BigEndian.AppendUint64(append(t.buf[:0], "ep"[d]), uint64(e.ts))
		b = append(b, e.key...)
		if !t.live[string(b)] { // a lookup by converted bytes does not allocate
			continue // deleted, or registered twice before a Load
		}
		k := string(b)
		delete(t.live, k)
		t.dirty[k] = false
		return []byte(e.key), e.ts, true
	}
	t.updateDue()
	return nil, 0, false
}

// Punctuate reports whether punctuator i fires at now, and for which time: each
// punctuator fires when its clock reaches a multiple of its interval (counted
// from the Unix epoch), once however many multiples the clock passed at once (as
// Kafka Streams skips missed punctuations), and its next time is kept in the
// store. A punctuator first seen (no time in the store) starts at the next
// multiple after now.
func (t *Timers) Punctuate(i int, d TimeDomain, now int64) (int64, bool) {
	p := t.punctuators[i]
	if p.Domain != d || now < 0 {
		return 0, false
	}
	if t.next[i] == 0 {
		t.setNext(i, now-now%p.Interval+p.Interval)
		return 0, false
	}
	if now < t.next[i] {
		return 0, false
	}
	at := now - now%p.Interval
	t.setNext(i, at+p.Interval)
	return at, true
}

func (t *Timers) setNext(i int, next int64) {
	t.next[i] = next
	t.dirty[string([]byte{'s', byte(i)})] = true
	t.updateDue()
}

// updateDue recomputes each domain's earliest firing time.
func (t *Timers) updateDue() {
	for d := range t.due {
		t.due[d] = math.MaxInt64
		if h := t.heaps[d]; len(h) > 0 {
			t.due[d] = h[0].ts
		}
	}
	for i, p := range t.punctuators {
		if t.next[i] == 0 {
			t.due[p.Domain] = math.MinInt64 // its first time is set by the first call
		} else {
			t.due[p.Domain] = min(t.due[p.Domain], t.next[i])
		}
	}
}

// Flush writes the changes since the last Flush to the backend. Each key
// changed once at most, so their order does not matter; a key not written
// stays dirty, for the next Flush.
func (t *Timers) Flush() error {
	for k, put := range t.dirty {
		// Backends copy what they keep and never write to a key: lend the string.
		key := unsafe.Slice(unsafe.StringData(k), len(k))
		var err error
		switch {
		case k[0] == 's':
			err = t.backend.Put(key, binary.BigEndian.AppendUint64(t.buf[:0], uint64(t.next[k[1]])))
		case put:
			err = t.backend.Put(key, []byte{})
		default:
			err = t.backend.Delete(key)
		}
		if err != nil {
			return fmt.Errorf("flush timers: %w", err)
		}
		delete(t.dirty, k)
	}
	return nil
}

// timerEntry is one timer in a heap: its time and encoded key.
type timerEntry struct {
	ts  int64
	key string
}

// timerHeap is a binary min-heap by (time, key), kept by hand rather than with
// container/heap, whose interface boxes every entry pushed or popped.
type timerHeap []timerEntry

func (e timerEntry) before(o timerEntry) bool {
	return e.ts < o.ts || (e.ts == o.ts && e.key < o.key)
}

func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if !a[i].before(a[parent]) {
			break
		}
		a[i], a[parent] = a[parent], a[i]
		i = parent
	}
}

func (h *timerHeap) pop() timerEntry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a[last] = timerEntry{}
	a = a[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(a) && a[l].before(a[least]) {
			least = l
		}
		if r < len(a) && a[r].before(a[least]) {
			least = r
		}
		if least == i {
			break
		}
		a[i], a[least] = a[least], a[i]
		i = least
	}
	*h = a
	return top
}
