package main

import (
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// The Processor API's cost per record, measured on this example: the generated
// task (its KeyValueStores and timer store over memory backends, flushed every
// 10,000 records as at a commit) against the same sessionization written by
// hand with Go maps and a heap, with the same JSON decoding and encoding. Users
// click in turn, one a second, 10,000 users: each click finds its user's
// session ended (the previous one's timer fired 30 minutes after it), so every
// record registers one timer and fires one.
//
//	go test -run XXX -bench Sessions -benchmem ./examples/sessiontimers

const (
	benchUsers = 10_000
	benchBatch = 1_000
	benchFlush = 10_000
)

// benchInput is n records, benchBatch to a batch.
func benchInput(n int) [][]runtime.Record {
	var batches [][]runtime.Record
	users := make([][]byte, benchUsers)
	for u := range users {
		users[u] = fmt.Appendf(nil, "user-%d", u)
	}
	for i := 0; i < n; i += benchBatch {
		batch := make([]runtime.Record, 0, benchBatch)
		for j := i; j < min(n, i+benchBatch); j++ {
			at := t0 + int64(j)*1000
			batch = append(batch, runtime.Record{Topic: "clicks", Offset: int64(j), Timestamp: at,
				Key: users[j%benchUsers], Value: fmt.Appendf(nil, `{"page":"/","at_ms":%d}`, at)})
		}
		batches = append(batches, batch)
	}
	return batches
}

type countingEmitter struct{ n int }

func (e *countingEmitter) Emit(runtime.TopicID, []byte, []byte, int64) { e.n++ }

func BenchmarkSessions(b *testing.B) {
	b.Run("impl=generated", func(b *testing.B) {
		out := &countingEmitter{}
		task := CompiledSessions().SubTopologies[0].NewTask(runtime.TaskContext{Out: out, StreamTime: runtime.NoTimestamp,
			Stores: []state.Backend{state.NewMemoryBackend(), state.NewMemoryBackend(), state.NewMemoryBackend()}})
		runBench(b, out, task.Process, task.Flush)
	})
	b.Run("impl=handwritten", func(b *testing.B) {
		out := &countingEmitter{}
		h := newHandSessions(out)
		runBench(b, out, h.process, h.flush)
	})
}

func runBench(b *testing.B, out *countingEmitter, process func(int, []runtime.Record) error, flush func() error) {
	batches := benchInput(max(b.N, 2*benchUsers))
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for _, batch := range batches {
		if done >= b.N {
			break
		}
		if err := process(0, batch); err != nil {
			b.Fatal(err)
		}
		if done += len(batch); done%benchFlush == 0 {
			if err := flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(out.n)/float64(done), "out/record")
}

// handSessions is track and sessionEnded written by hand: sessions in a map,
// timers in a heap with a map of each user's live timer, the open count in an
// int; flush writes what changed to memory backends, as the generated task
// does, so that a restart could resume: the sessions as JSON, each user's timer
// as 8 bytes, the open count.
type handSessions struct {
	out        runtime.Emitter
	sessions   map[string]*Session
	timers     handTimers
	timerAt    map[string]int64
	open       int64
	streamTime int64
	dirty      map[string]bool
	backend    *state.MemoryBackend // sessions
	timerStore *state.MemoryBackend // user → its timer's time
	openStore  *state.MemoryBackend // "open" → count
	buf        []byte
}

func newHandSessions(out runtime.Emitter) *handSessions {
	return &handSessions{out: out, sessions: map[string]*Session{}, timerAt: map[string]int64{},
		dirty: map[string]bool{}, backend: state.NewMemoryBackend(), timerStore: state.NewMemoryBackend(),
		openStore: state.NewMemoryBackend(), streamTime: -1}
}

func (h *handSessions) process(_ int, batch []runtime.Record) error {
	for i := range batch {
		h.fire()
		r := &batch[i]
		var c Click
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		at := c.AtMs
		h.streamTime = max(h.streamTime, at)
		user := string(r.Key)
		s := h.sessions[user]
		if s != nil && at-s.LastMs >= Gap.Milliseconds() {
			if err := h.emit(user, *s, s.LastMs+Gap.Milliseconds()); err != nil {
				return err
			}
			s, h.open = nil, h.open-1
		}
		if s == nil {
			s = &Session{StartMs: at, LastMs: at}
			h.sessions[user] = s
			h.open++
		}
		s.LastMs, s.Clicks = max(s.LastMs, at), s.Clicks+1
		h.dirty[user] = true
		h.timerAt[user] = s.LastMs + Gap.Milliseconds()
		heap.Push(&h.timers, handTimer{s.LastMs + Gap.Milliseconds(), user})
	}
	h.fire()
	return nil
}

func (h *handSessions) fire() {
	for len(h.timers) > 0 && h.timers[0].at <= h.streamTime {
		tm := heap.Pop(&h.timers).(handTimer)
		if h.timerAt[tm.user] != tm.at {
			continue
		}
		delete(h.timerAt, tm.user)
		if s := h.sessions[tm.user]; s != nil {
			_ = h.emit(tm.user, *s, tm.at)
			delete(h.sessions, tm.user)
			h.dirty[tm.user] = true
			h.open--
		}
	}
}

func (h *handSessions) emit(user string, s Session, at int64) error {
	v, err := json.Marshal(endedEvent(user, s))
	if err != nil {
		return err
	}
	h.out.Emit(1, []byte(user), v, at)
	return nil
}

func (h *handSessions) flush() error {
	for user := range h.dirty {
		if at, ok := h.timerAt[user]; ok {
			if err := h.timerStore.Put([]byte(user), binary.BigEndian.AppendUint64(nil, uint64(at))); err != nil {
				return err
			}
		} else if err := h.timerStore.Delete([]byte(user)); err != nil {
			return err
		}
		s := h.sessions[user]
		if s == nil {
			if err := h.backend.Delete([]byte(user)); err != nil {
				return err
			}
			continue
		}
		var err error
		if h.buf, err = json.Marshal(s); err != nil {
			return err
		}
		if err := h.backend.Put([]byte(user), h.buf); err != nil {
			return err
		}
	}
	clear(h.dirty)
	return h.openStore.Put([]byte("open"), binary.BigEndian.AppendUint64(nil, uint64(h.open)))
}

type handTimer struct {
	at   int64
	user string
}

type handTimers []handTimer

func (h handTimers) Len() int           { return len(h) }
func (h handTimers) Less(i, j int) bool { return h[i].at < h[j].at }
func (h handTimers) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *handTimers) Push(x any)        { *h = append(*h, x.(handTimer)) }
func (h *handTimers) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
