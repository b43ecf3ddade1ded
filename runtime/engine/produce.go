package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// asynchronously through the task's producer; commit waits for the acks. A
// negative timestamp (runtime.NoTimestamp for changelogs and barriers, or a bad
// record's) lets the producer stamp the record with the time it is sent.
func (e *Engine) produce(tk *task, topic string, p int32, key, value []byte, timestamp int64, headers []kgo.RecordHeader) {
	if !e.node.LeaseHeld() {
		// The lease ran out under this write (the process was paused in the
		// middle of a batch or a flush): another replica may own the task
		// now. Drop it; flushTasks sees the count and nothing is committed.
		e.fencedWrites++
		return
	}
	buf := make([]byte, len(key)+len(value))
	var k, v []byte
	if key != nil {
		k = buf[:len(key):len(key)]
		copy(k, key)
	}
	if value != nil {
		v = buf[len(key):]
		copy(v, value)
	}
	tk.txnRecords++
	r := &kgo.Record{Topic: topic, Partition: p, Key: k, Value: v, Headers: headers}
	if timestamp >= 0 {
		r.Timestamp = time.UnixMilli(timestamp)
	}
	if faultProduce.hit() {
		tk.ack(r, faultProduce.err()) // as the producer's callback would report it
		return
	}
	tk.producer.Produce(context.Background(), r, tk.ack)
}

// ackFunc is the produce callback of a task's records: a failure of the
// shared producer belongs to every task (e.produceErr), one of a task's own
// transactional producer to that task alone (its produceErr), whose
// transaction then aborts without touching the others'.
func (e *Engine) ackFunc(t *task) func(*kgo.Record, error) {
	if t.producer == e.producer {
		return func(r *kgo.Record, err error) { e.acked(&e.produceErr, r, err) }
	}
	return func(r *kgo.Record, err error) { e.acked(&t.produceErr, r, err) }
}

// acked records a produce failure in *failed (guarded by e.mu) and the
// changelog offsets reached.
func (e *Engine) acked(failed *error, r *kgo.Record, err error) {
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
	if _, ok := e.changelogs[tp]; ok || e.isChangelog(r.Topic) {
		e.changelogs[tp] = max(e.changelogs[tp], r.Offset+1)
	}
}

func (e *Engine) isChangelog(topic string) bool {
	for _, t := range e.topics {
		if t.name == topic {
			return t.kind == runtime.ChangelogTopic
		}
	}
	return false
}
