package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
)

// What tasks write (sink, repartition and changelog records, barriers, dead
// letters) goes through produce, asynchronously; acked collects the outcome,
// which commitTasks waits for before it commits anything.

// taskOut is a task's runtime.Emitter: what the task emits goes through its
// producer (under exactly-once, into its transaction).
type taskOut struct {
	e *Engine
	t *task
}

// Emit implements runtime.Emitter: records are partitioned by key as Kafka's
// default partitioner does, so other clients agree on where a key lives.
func (o taskOut) Emit(topic runtime.TopicID, key, value []byte, timestamp int64) {
	e := o.e
	if faultPanicEmit.hit() {
		panic("fault injected by GOFKA_TEST_PANIC_EMIT") // as a user function would, mid-batch
	}
	t := e.topics[topic]
	var p int32
	if key == nil {
		p = int32(t.rr % uint32(t.partitions))
		t.rr++
	} else {
		p = runtime.Partition(key, t.partitions)
	}
	e.produce(o.t, t.name, p, key, value, timestamp, nil)
}

// produce copies key and value (callers reuse their buffers) and sends them
// asynchronously through the task's producer; commit waits for the acks. The
// record and the buffer of the copy come from the producer's free list
// (outPool) and go back to it once acknowledged, so in steady state writing
// allocates nothing. A negative timestamp (runtime.NoTimestamp for changelogs
// and barriers, or a bad record's) lets the producer stamp the record with the
// time it is sent.
func (e *Engine) produce(tk *task, topic string, p int32, key, value []byte, timestamp int64, headers []kgo.RecordHeader) {
	if !tk.out.room(tk.producer, len(key)+len(value)+headersSize(headers), e.node.LeaseHeld) || !e.node.LeaseHeld() {
		// The lease ran out under this write (the process was paused in the
		// middle of a batch or a flush): another replica may own the task
		// now. Drop it; flushTasks sees the count and nothing is committed.
		e.fencedWrites++
		return
	}
	o := tk.out.get()
	o.buf = append(append(o.buf[:0], key...), value...)
	var k, v []byte
	if key != nil {
		k = o.buf[:len(key):len(key)]
	}
	if value != nil {
		v = o.buf[len(key):len(o.buf):len(o.buf)]
	}
	tk.txnRecords++
	o.Record = kgo.Record{Topic: topic, Partition: p, Key: k, Value: v, Headers: headers}
	if timestamp >= 0 {
		o.Record.Timestamp = time.UnixMilli(timestamp)
	}
	if faultProduce.hit() {
		tk.ack(&o.Record, faultProduce.err()) // as the producer's callback would report it
		return
	}
	tk.producer.Produce(context.Background(), &o.Record, tk.ack)
}

// ackFunc is the produce callback of a task's records: a failure of the
// shared producer belongs to every task (e.produceErr), one of a task's own
// transactional producer to that task alone (its produceErr), whose
// transaction then aborts without touching the others'. The record then goes
// back to its free list: franz-go does not touch a record after its callback.
func (e *Engine) ackFunc(t *task) func(*kgo.Record, error) {
	failed, out := &t.produceErr, t.out
	if t.producer == e.producer {
		failed = &e.produceErr
	}
	return func(r *kgo.Record, err error) {
		e.acked(failed, r, err)
		out.put(r)
	}
}

// Produce blocks while the producer's buffer is full (MaxBufferedRecords,
// MaxBufferedBytes), and a process paused (SIGSTOP) in that wait would send the
// record when it runs again, past the lease it checked before: a zombie's
// write, seen on a changelog as records stamped after the process continued.
// So produce never lets Produce block: before every outTake records (and
// before any record over smallRecord bytes) room checks with the producer that
// they fit, waiting for acks while they do not, and produce checks the lease
// after that wait. Only the loop's goroutine produces through a pool's
// producer, so the buffer can only shrink between the check and the writes.
const smallRecord = 4 << 10

// room waits until the next records fit in producer's buffer without
// blocking Produce; it returns false at once when held says the lease ran
// out meanwhile. size is the next record's key, value and headers.
func (p *outPool) room(producer *kgo.Client, size int, held func() bool) bool {
	if p.untilCheck > 0 && size <= smallRecord {
		p.untilCheck--
		return true
	}
	if p.maxRecords == 0 {
		p.maxRecords = producer.OptValue(kgo.MaxBufferedRecords).(int64)
		p.maxBytes = producer.OptValue(kgo.MaxBufferedBytes).(int64)
	}
	records, bytes := int64(outTake), int64(max(size, outTake*smallRecord))
	if size > smallRecord {
		records = 1 // a large record is checked on its own
	}
	for producer.BufferedProduceRecords()+records > p.maxRecords ||
		(p.maxBytes > 0 && producer.BufferedProduceBytes()+bytes > p.maxBytes && producer.BufferedProduceRecords() > 0) {
		if !held() {
			return false
		}
		time.Sleep(200 * time.Microsecond) // the acks free room
	}
	if size <= smallRecord {
		p.untilCheck = outTake - 1
	}
	return true
}

// headersSize is what franz-go counts of headers in its buffer limit.
func headersSize(hs []kgo.RecordHeader) int {
	n := 0
	for _, h := range hs {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// outRecord is a record being produced and the buffer its key and value are
// copied into: inline for most records, one allocation for both.
type outRecord struct {
	kgo.Record // first, so that outPool.put finds the outRecord from the callback's *kgo.Record
	buf        []byte
	inline     [48]byte
}

// outPool is a free list of outRecords: produce takes them on the loop's
// goroutine, the produce callbacks give them back on franz-go's. There is
// one per producer (the engine's shared one under at-least-once, each task's
// under exactly-once): a producer has at most its buffer limit (franz-go's
// MaxBufferedRecords, 50,000) in flight, so the list never grows much past
// that (about 256 bytes a record), and steady state allocates nothing. One
// per task under a shared producer would grow each task's list to its own
// peak.
type outPool struct {
	mu   sync.Mutex
	free []*outRecord // given back by the callbacks
	// taken is the loop goroutine's own stock, refilled from free outTake
	// at a time, so that taking a record does not lock the pool.
	taken []*outRecord
	// untilCheck is how many more small records may be produced before room
	// checks the producer's buffer again; maxRecords and maxBytes are the
	// producer's limits (read once). The loop's goroutine alone uses them.
	untilCheck           int
	maxRecords, maxBytes int64
}

// outSlab is how many outRecords the pool allocates at once when it is empty,
// so that growing to a new peak of records in flight (which varies with the
// broker's pace) costs one allocation per outSlab records.
const outSlab = 256

// outTake is how many records the loop takes from the free list at once.
const outTake = 64

// get returns a record to produce. Only the loop's goroutine calls it.
func (p *outPool) get() *outRecord {
	if len(p.taken) == 0 {
		p.refill()
	}
	n := len(p.taken) - 1
	o := p.taken[n]
	p.taken = p.taken[:n]
	return o
}

// refill moves up to outTake records from the free list to the loop's
// stock, or a new slab of them when the list is empty.
func (p *outPool) refill() {
	p.mu.Lock()
	n := min(len(p.free), outTake)
	p.taken = append(p.taken, p.free[len(p.free)-n:]...)
	clear(p.free[len(p.free)-n:])
	p.free = p.free[:len(p.free)-n]
	p.mu.Unlock()
	if n > 0 {
		if warmRefills {
			warm(p.taken)
		}
		return
	}
	slab := make([]outRecord, outSlab)
	for i := range slab {
		o := &slab[i]
		// Never nil, so that an empty key or value stays non-nil (nil
		// means a null key or a tombstone).
		o.buf = o.inline[:0]
		p.taken = append(p.taken, o)
	}
}

// warm reads a word of each cache line of the records about to be reused that
// produce writes. A recycled record was last written on franz-go's goroutine
// (the ack) and is cold in this core's cache: produce's first write to it
// stalled on the miss (about 10% of click-count's CPU, in a profile), one
// record after the other. Independent loads issued back to back let the core
// wait for many of those misses at once.
func warm(rs []*outRecord) {
	const size = unsafe.Sizeof(outRecord{})
	var sum byte
	for _, o := range rs {
		p := unsafe.Pointer(o)
		for off := uintptr(0); off < size; off += 64 {
			sum += *(*byte)(unsafe.Add(p, off))
		}
		sum += *(*byte)(unsafe.Add(p, size-1))
	}
	warmSink = sum
}

// warmSink keeps warm's loads from being optimized away.
var warmSink byte

// warmRefills is off only in BenchmarkOutPoolRecycle's comparison.
var warmRefills = true

// maxKeptBuf is the largest buffer a recycled outRecord keeps: a rare large
// record (a dead letter, a big aggregate) does not pin its memory for good.
const maxKeptBuf = 4 << 10

// put gives back r, the Record of an outRecord from get, once it is acknowledged.
func (p *outPool) put(r *kgo.Record) {
	o := (*outRecord)(unsafe.Pointer(r))
	// produce sets every field again; only what is not the pool's own needs
	// dropping (Key and Value point into buf, Topic names are long-lived).
	o.Headers, o.Context = nil, nil
	if cap(o.buf) > maxKeptBuf {
		o.buf = o.inline[:0]
	}
	p.mu.Lock()
	p.free = append(p.free, o)
	p.mu.Unlock()
}

// acked records a produce failure in *failed (guarded by e.mu) and the
// changelog offsets reached.
func (e *Engine) acked(failed *error, r *kgo.Record, err error) {
	if err == nil && !e.isChangelog(r.Topic) {
		// Most acks (sink and repartition records) change nothing: no lock.
		// e.topics and the names and kinds in it are fixed before any task runs.
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if errors.Is(err, kgo.ErrAborting) {
			return // dropped on purpose when the replica was fenced
		}
		if *failed == nil {
			*failed = fmt.Errorf("produce to topic %s partition %d: %w", r.Topic, r.Partition, err)
		}
		return
	}
	tp := topicPartition{r.Topic, r.Partition}
	e.changelogs[tp] = max(e.changelogs[tp], r.Offset+1)
}

func (e *Engine) isChangelog(topic string) bool {
	for _, t := range e.topics {
		if t.name == topic {
			return t.kind == runtime.ChangelogTopic
		}
	}
	return false
}
