package engine

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkOutPoolRecycle is the record pool as click-count uses it: the
// loop's goroutine takes a record and writes a key and value into it, as
// produce does, while another goroutine plays franz-go, which writes the
// acknowledged offset into each record and gives it back, with inFlight
// records between the two (the producer's buffer). warm=false leaves out the
// warming of refills, for comparison.
func BenchmarkOutPoolRecycle(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "warm=false", true: "warm=true"}[on], func(b *testing.B) {
			defer func(was bool) { warmRefills = was }(warmRefills)
			warmRefills = on
			for _, n := range []int{5_000, 50_000, 500_000} {
				b.Run(fmt.Sprintf("in-flight=%d", n), func(b *testing.B) { benchmarkOutPool(b, n) })
			}
		})
	}
}

func benchmarkOutPool(b *testing.B, inFlight int) {
	const batch = 256 // records handed to the acking goroutine at once
	p := &outPool{}
	acks := make(chan []*kgo.Record, inFlight/batch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rs := range acks {
			for i, r := range rs {
				r.Offset = int64(i) // franz-go sets the offset (and more) on the ack
				p.put(r)
			}
		}
	}()
	key, value := []byte("user-0042"), []byte("0123456789abcdef")
	pending := make([]*kgo.Record, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		o := p.get()
		o.buf = append(append(o.buf[:0], key...), value...)
		o.Record = kgo.Record{Topic: "t", Partition: int32(i & 3), Key: o.buf[:len(key)], Value: o.buf[len(key):]}
		pending = append(pending, &o.Record)
		if len(pending) == batch {
			acks <- pending
			pending = make([]*kgo.Record, 0, batch)
		}
	}
	close(acks)
	<-done
}
