package engine

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchedRecords is the consumer's kgo.PoolRecords: franz-go decodes each
// fetched batch into a []kgo.Record it gets here, and gives the slice back
// once every record of the batch is recycled (recycleFetched, after the
// batch is processed). Without it every fetched record costs a kgo.Record
// (about 170 bytes) of garbage. Only the records are pooled, never the bytes
// their keys and values point into (kgo.PoolDecompressBytes), which decoded
// values may alias.
type fetchedRecords struct {
	mu   sync.Mutex
	free [][]kgo.Record
	held int // records in free
}

// maxFetchedHeld bounds the records the free slices hold (about 5.5 MB):
// enough for the batches of a few polls in steady state. Behind a backlog
// franz-go buffers far more; what is beyond the bound is left to the
// collector rather than kept for good.
const maxFetchedHeld = 1 << 15

// GetRecords implements kgo.PoolRecords. A slice shorter than n is grown by
// franz-go, and the grown one comes back, so the slices settle at the
// largest batches.
func (p *fetchedRecords) GetRecords(n int) []kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	last := len(p.free) - 1
	if last < 0 {
		return make([]kgo.Record, 0, n)
	}
	s := p.free[last]
	p.free[last] = nil
	p.free = p.free[:last]
	p.held -= cap(s)
	return s[:0]
}

// PutRecords implements kgo.PoolRecords. Recycled records are zeroed, and
// decoding a batch into a slice sets every field of its records.
func (p *fetchedRecords) PutRecords(s []kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held+cap(s) <= maxFetchedHeld {
		p.free = append(p.free, s)
		p.held += cap(s)
	}
}
