package queries

import (
	"bytes"
	"fmt"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// Runner runs one compiled query in process, as the engine runs one partition of
// it, with no broker: it feeds batches of event records to the tasks that read
// nexmark-events, hands records written to repartition topics to the tasks that
// read them, gives every task the watermark after each batch (the engine hands
// one after every batch: largest event time − the source's out-of-orderness −
// 1 ms), and passes what the query writes to its sink topic to Sink. Stores are
// in memory (state.MemoryBackend); Commit flushes them as a commit would.
//
//	batch ──Task.Process──▶ repartition records ──▶ downstream tasks ──▶ … ──▶ Sink(key, value)
//	      └─ largest event time ─▶ AdvanceWatermark on every task ─▶ (windows close, more records)
//
// It is what `nexmark query` and the benchmarks run: the generated code, one
// partition, without streamstest's bookkeeping (which keeps every changelog
// record and commits after every record: right for tests, slow for 100,000
// events). As the engine, which sends a task's watermark into its repartition
// topics after the records it wrote, the runner hands a downstream task the
// records an upstream task released before the watermark that released them;
// streamstest advances both in one step, so a watermark jump of more than
// q5's grace (10 s) there makes its second step drop the counts it released.
type Runner struct {
	tasks   []runtime.Task
	readers map[runtime.TopicID][]reader
	events  runtime.TopicID
	delay   int64 // watermark: largest time − delay − 1
	largest int64
	given   int64
	queue   []queued
	batch   []runtime.Record // reused for each batch of queued records
	names   []string         // topic names, for errors
	// Sink receives each record written to a topic no task reads; key and value
	// are valid only during the call.
	Sink func(key, value []byte)
}

type reader struct{ sub, source int }

type queued struct {
	topic runtime.TopicID
	rec   runtime.Record
}

// NewRunner makes the tasks of p, one partition, with empty stores.
func NewRunner(p *runtime.Program) (*Runner, error) {
	r := &Runner{readers: map[runtime.TopicID][]reader{}, events: -1, largest: runtime.NoTimestamp, given: runtime.NoTimestamp}
	for _, t := range p.Topics {
		r.names = append(r.names, t.Name)
	}
	for si, st := range p.SubTopologies {
		for src, s := range st.Sources {
			for _, id := range s.Topics {
				r.readers[id] = append(r.readers[id], reader{si, src})
				if p.Topics[id].Name == EventsTopic {
					r.events = id
					if s.Watermark != nil {
						r.delay = s.Watermark.MaxOutOfOrderness.Milliseconds()
					}
				}
			}
		}
		stores := make([]state.Backend, len(st.Stores))
		for i := range stores {
			stores[i] = state.NewMemoryBackend()
		}
		r.tasks = append(r.tasks, st.NewTask(runtime.TaskContext{Out: r, Stores: stores, StreamTime: runtime.NoTimestamp}))
	}
	if r.events < 0 {
		return nil, fmt.Errorf("program %s reads no topic %q", p.Name, EventsTopic)
	}
	return r, nil
}

// Emit implements runtime.Emitter.
func (r *Runner) Emit(topic runtime.TopicID, key, value []byte, ts int64) {
	if len(r.readers[topic]) == 0 {
		if r.Sink != nil {
			r.Sink(key, value)
		}
		return
	}
	r.queue = append(r.queue, queued{topic, runtime.Record{Topic: r.names[topic], Key: bytes.Clone(key), Value: bytes.Clone(value), Timestamp: ts}})
}

// Process runs a batch of nexmark-events records (their values the events'
// JSON) and everything it causes, then moves the watermark. The tasks' source
// extractors set each record's Timestamp to its event time.
func (r *Runner) Process(batch []runtime.Record) error {
	for _, rd := range r.readers[r.events] {
		if err := r.tasks[rd.sub].Process(rd.source, batch); err != nil {
			return err
		}
	}
	for _, rec := range batch {
		r.largest = max(r.largest, rec.Timestamp)
	}
	if err := r.drain(); err != nil {
		return err
	}
	if r.largest == runtime.NoTimestamp || r.largest-r.delay-1 <= r.given {
		return nil
	}
	r.given = r.largest - r.delay - 1
	for _, t := range r.tasks {
		if wt, ok := t.(runtime.WatermarkTask); ok {
			if err := wt.AdvanceWatermark(r.given); err != nil {
				return err
			}
			if err := r.drain(); err != nil {
				return err
			}
		}
	}
	return nil
}

// drain processes the queued repartition records, in the order they were
// written: each run of records of one topic as one batch, as a fetch gives them.
func (r *Runner) drain() error {
	for len(r.queue) > 0 {
		topic, n := r.queue[0].topic, 1
		for n < len(r.queue) && r.queue[n].topic == topic {
			n++
		}
		r.batch = r.batch[:0]
		for _, q := range r.queue[:n] {
			r.batch = append(r.batch, q.rec)
		}
		r.queue = r.queue[n:]
		for _, rd := range r.readers[topic] {
			if err := r.tasks[rd.sub].Process(rd.source, r.batch); err != nil {
				return err
			}
		}
	}
	r.queue = r.queue[:0]
	return nil
}

// Commit flushes every task's state, as the engine does at a commit.
func (r *Runner) Commit() error {
	for _, t := range r.tasks {
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return r.drain()
}
