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
}

// maxFetchedFree bounds the slices kept: as many batches as a few polls hold.
const maxFetchedFree = 1024

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
	return s[:0]
}

// PutRecords implements kgo.PoolRecords. Recycled records are zeroed, and
// decoding a batch into a slice sets every field of its records.
func (p *fetchedRecords) PutRecords(s []kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < maxFetchedFree {
		p.free = append(p.free, s)
	}
}
