package operators

import (
	"bytes"
	"encoding/binary"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// Handwritten is the click count as a plain Go loop written by hand for this one
// topology: what a programmer who needs the throughput and does not mind losing the
// DSL would write. It is the upper bound the generated code is measured against.
//
// It does the same work per record as the generated tasks driven by the bench's
// runner, and nothing the generated path is spared:
//
//   - no decoding: keys and values are []byte, as the seed's Bytes serde leaves them;
//   - filter: drop values that start with "bot:";
//   - rekey: slice the value at its first comma into user and path;
//   - the repartition hop: copy the user (key) and path (value) of every kept record
//     into an arena reused for each batch, then run the second stage over the
//     copies, as the runner does between sub-topology 0 and 1;
//   - aggregate: look the user up in a map[string]*counter with the no-allocation
//     m[string(b)] idiom (inserting a new counter for a new user) and increment it;
//   - sink: append the key and the 8-byte big-endian count to an output buffer
//     reused for each batch, and count the output records;
//   - commit: at Commit, write every counter changed since the last commit to a
//     state.MemoryBackend as 8 big-endian bytes, as the generated task's Flush
//     writes its cache to the same kind of backend.
//
// What it leaves out, because a hand-written loop has no need for it: the
// runtime.Task and runtime.Emitter interfaces, building a []runtime.Record for the
// second stage, the per-record error checks of the serdes, and the separate
// key/value encode buffers the generated code copies through before Emit.
type Handwritten struct {
	counts map[string]*hwCounter

	arena []byte     // repartitioned keys and values of the current batch
	reps  []hwRecord // where each repartitioned record is in arena
	sink  []byte     // output records of the current batch
	out   int        // output records so far
	store state.Backend
	dirty []*hwCounter // counters changed since the last commit
	buf   []byte       // reused for encoding a count at commit
}

type hwCounter struct {
	n     uint64
	dirty bool
	key   string
}

type hwRecord struct{ start, keyLen, valueLen int }

// NewHandwritten returns an empty Handwritten that commits to store.
func NewHandwritten(store state.Backend) *Handwritten {
	return &Handwritten{counts: map[string]*hwCounter{}, store: store}
}

// ProcessBatch runs one batch of user-clicks through both stages.
func (h *Handwritten) ProcessBatch(batch []runtime.Record) {
	// Stage 1: filter, rekey, copy into the repartition arena.
	h.arena, h.reps = h.arena[:0], h.reps[:0]
	for i := range batch {
		v := batch[i].Value
		if bytes.HasPrefix(v, botPrefix) {
			continue
		}
		user, path := v, v[len(v):]
		if j := bytes.IndexByte(v, ','); j >= 0 {
			user, path = v[:j], v[j+1:]
		}
		start := len(h.arena)
		h.arena = append(h.arena, user...)
		h.arena = append(h.arena, path...)
		h.reps = append(h.reps, hwRecord{start, len(user), len(path)})
	}
	// Stage 2: count per user, write the updated counts to the sink buffer.
	h.sink = h.sink[:0]
	for _, r := range h.reps {
		user := h.arena[r.start : r.start+r.keyLen]
		c := h.counts[string(user)]
		if c == nil {
			c = &hwCounter{key: string(user)}
			h.counts[c.key] = c
		}
		c.n++
		if !c.dirty {
			c.dirty = true
			h.dirty = append(h.dirty, c)
		}
		h.sink = append(h.sink, user...)
		h.sink = binary.BigEndian.AppendUint64(h.sink, c.n)
	}
	h.out += len(h.reps)
}

// Commit writes the counters changed since the last commit to the backend.
func (h *Handwritten) Commit() error {
	for _, c := range h.dirty {
		h.buf = binary.BigEndian.AppendUint64(h.buf[:0], c.n)
		if err := h.store.Put([]byte(c.key), h.buf); err != nil {
			return err
		}
		c.dirty = false
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
	return nil
}

// Run processes records in batches of BatchSize and commits at the end.
func (h *Handwritten) Run(records []runtime.Record) error {
	for len(records) > 0 {
		n := min(BatchSize, len(records))
		h.ProcessBatch(records[:n])
		records = records[n:]
	}
	return h.Commit()
}

// Counts returns the count of every user.
func (h *Handwritten) Counts() map[string]uint64 {
	m := make(map[string]uint64, len(h.counts))
	for k, c := range h.counts {
		m[k] = c.n
	}
	return m
}

// Outputs is the number of records written to the sink so far.
func (h *Handwritten) Outputs() int { return h.out }
