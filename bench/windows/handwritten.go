package windows

import (
	"encoding/binary"

	"github.com/gofka/streams/runtime"
)

// handwritten is what a Go programmer would write by hand for a windowed count
// on one partition: a map from (key, window start) to the count, stream time, the
// same late rule and the same output records (the key, then the start; the count
// big-endian; the latest timestamp counted), emitted to the same Emitter. Expired windows are deleted as stream
// time passes them, by remembering each window's start per key.
type handwritten struct {
	size, advance, grace int64
	out                  runtime.Emitter
	counts               map[windowKey]window
	starts               map[int64][]windowKey // windows by start, to expire them
	oldest               int64                 // the oldest start that may still be in counts
	streamTime           int64
	late                 int64
	keyBuf, valueBuf     []byte
}

// window is a window's count and the latest timestamp counted (the result's).
type window struct{ n, ts int64 }

type windowKey struct {
	key   string
	start int64
}

func newHandwritten(size, advance, grace int64, out runtime.Emitter) *handwritten {
	return &handwritten{size: size, advance: advance, grace: grace, out: out,
		counts: map[windowKey]window{}, starts: map[int64][]windowKey{}, streamTime: -1, oldest: -1}
}

func (h *handwritten) process(batch []runtime.Record) {
	for i := range batch {
		r := &batch[i]
		ts := r.Timestamp
		h.streamTime = max(h.streamTime, ts)
		h.expire()
		open := false
		for start := max(0, ts-h.size+h.advance) / h.advance * h.advance; start <= ts; start += h.advance {
			if start+h.size+h.grace <= h.streamTime {
				continue
			}
			open = true
			wk := windowKey{string(r.Key), start}
			w, ok := h.counts[wk]
			if !ok {
				h.starts[start] = append(h.starts[start], wk)
			}
			w.n++
			w.ts = max(w.ts, ts)
			h.counts[wk] = w
			h.keyBuf = binary.BigEndian.AppendUint64(append(h.keyBuf[:0], r.Key...), uint64(start))
			h.valueBuf = binary.BigEndian.AppendUint64(h.valueBuf[:0], uint64(w.n))
			h.out.Emit(0, h.keyBuf, h.valueBuf, w.ts)
		}
		if !open {
			h.late++
		}
	}
}

// expire deletes the windows that can no longer change.
func (h *handwritten) expire() {
	if h.oldest < 0 { // the first record: no window before its first one
		h.oldest = max(0, h.streamTime-h.size+h.advance) / h.advance * h.advance
	}
	for ; h.oldest+h.size+h.grace <= h.streamTime; h.oldest += h.advance {
		for _, wk := range h.starts[h.oldest] {
			delete(h.counts, wk)
		}
		delete(h.starts, h.oldest)
	}
}
