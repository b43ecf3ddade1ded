package windows

import (
	"encoding/binary"
	"slices"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// Handwritten is a windowed count per key as a plain Go loop written by hand:
// what a programmer who needs the throughput and does not mind losing the DSL
// would write. It is what the generated windowed count is measured against.
//
// It does per record what the generated task does:
//
//   - stream time: the largest timestamp seen, before anything else;
//   - the windows the record falls in (windowStarts), each skipped when it has
//     closed (late: counted, not added);
//   - for each open window, a map lookup by key + start (the no-allocation
//     m[string(b)] idiom; a new window allocates its counter) and an increment;
//   - sink: the windowed key as Kafka Streams' time-windowed serde writes it
//     (key bytes, then the start as 8 bytes big-endian) and the 8-byte count,
//     appended to an output buffer reused for each batch;
//   - expiry: when stream time passes a window's start + size + grace, its
//     counter leaves the map and the store;
//   - commit: every counter changed since the last commit written to a
//     state.MemoryBackend under the same windowed key.
type Handwritten struct {
	size, advance, grace int64
	streamTime           int64

	windows map[string]*hwWindow  // by windowed key
	byStart map[int64][]*hwWindow // for expiry
	live    []int64               // starts of byStart, ascending

	key    []byte  // the windowed key being built
	starts []int64 // the current record's windows
	sink   []byte  // output records of the current batch
	out    int
	late   int
	store  state.Backend
	dirty  []*hwWindow
	buf    []byte
}

type hwWindow struct {
	n     uint64
	start int64
	dirty bool
	gone  bool
	key   string // the windowed key
}

// NewHandwritten returns an empty windowed count of windows size ms long,
// starting every advance ms, with grace ms of grace, committing to store.
func NewHandwritten(size, advance, grace int64, store state.Backend) *Handwritten {
	return &Handwritten{size: size, advance: advance, grace: grace, streamTime: -1,
		windows: map[string]*hwWindow{}, byStart: map[int64][]*hwWindow{}, store: store}
}

// ProcessBatch counts one batch of records.
func (h *Handwritten) ProcessBatch(batch []runtime.Record) error {
	h.sink = h.sink[:0]
	for i := range batch {
		r := &batch[i]
		if r.Timestamp > h.streamTime {
			h.streamTime = r.Timestamp
			if err := h.expire(); err != nil {
				return err
			}
		}
		h.starts = windowStarts(h.starts[:0], r.Timestamp, h.size, h.advance)
		for _, start := range h.starts {
			if !open(start, h.size, h.grace, h.streamTime) {
				h.late++
				continue
			}
			h.key = append(append(h.key[:0], r.Key...), 0, 0, 0, 0, 0, 0, 0, 0)
			binary.BigEndian.PutUint64(h.key[len(r.Key):], uint64(start))
			w := h.windows[string(h.key)]
			if w == nil {
				w = &hwWindow{start: start, key: string(h.key)}
				h.windows[w.key] = w
				if _, ok := h.byStart[start]; !ok {
					i, _ := slices.BinarySearch(h.live, start)
					h.live = slices.Insert(h.live, i, start)
				}
				h.byStart[start] = append(h.byStart[start], w)
			}
			w.n++
			if !w.dirty {
				w.dirty = true
				h.dirty = append(h.dirty, w)
			}
			h.sink = append(h.sink, h.key...)
			h.sink = binary.BigEndian.AppendUint64(h.sink, w.n)
			h.out++
		}
	}
	return nil
}

// expire drops the windows stream time has passed for good.
func (h *Handwritten) expire() error {
	for len(h.live) > 0 && h.live[0]+h.size+h.grace <= h.streamTime {
		start := h.live[0]
		for _, w := range h.byStart[start] {
			delete(h.windows, w.key)
			w.gone = true
			if err := h.store.Delete([]byte(w.key)); err != nil {
				return err
			}
		}
		delete(h.byStart, start)
		h.live = h.live[1:]
	}
	return nil
}

// Commit writes the windows changed since the last commit to the backend.
func (h *Handwritten) Commit() error {
	for _, w := range h.dirty {
		w.dirty = false
		if w.gone {
			continue
		}
		h.buf = binary.BigEndian.AppendUint64(h.buf[:0], w.n)
		if err := h.store.Put([]byte(w.key), h.buf); err != nil {
			return err
		}
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
	return nil
}

// Run processes records in batches of BatchSize and commits at the end.
func (h *Handwritten) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		if err := h.ProcessBatch(records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return h.Commit()
}

// Outputs is the number of records written to the sink so far; Late the
// number of (record, window) pairs dropped as late.
func (h *Handwritten) Outputs() int { return h.out }
func (h *Handwritten) Late() int    { return h.late }
