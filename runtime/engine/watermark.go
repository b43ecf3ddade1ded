package engine

import (
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// Watermarks (streams WithWatermark): how far event time has certainly got,
// so that windows close only once every input has passed them.
//
//	source partition ─▶ processPartition: the batch's largest timestamp (after the task's
//	                    extractor ran) ─▶ input mark = largest − MaxOutOfOrderness − 1 ms;
//	                    idle after IdleTimeout without a record (left out of the minimum)
//	task watermark = min over its active inputs, never going back
//	                    ─▶ runtime.WatermarkTask.AdvanceWatermark (windows close)
//	commit ─▶ a task writing repartition topics sends its watermark to every partition of
//	          each (a control record gofka.watermark=<ms>, gofka.from=<task>, gofka.idle)
//	          ─▶ downstream input mark = min over the upstream tasks (idle ones left out)
//
// The task's watermark is committed with its offsets, like stream time
// (streamtime.go), so a restarted task does not reopen windows it closed.
// An upstream task announces whenever its watermark or idleness changed, and
// at least every announceEvery, so a downstream task that restarted learns the
// upstream marks again even when no record flows.

const (
	watermarkHeader = "gofka.watermark" // value: milliseconds; first header of a control record
	idleHeader      = "gofka.idle"      // present when the sender's inputs are all idle
	announceEvery   = 5 * time.Second
)

// watermarks tracks the input marks of the running tasks.
type watermarks struct {
	e *Engine
	// specs[topic] is the watermark of a user topic read by a source with one.
	specs map[string]*runtime.WatermarkSpec
	// writers[topic] is how many upstream tasks send watermarks into a
	// repartition topic written by a sub-topology that has a watermark.
	writers map[string]int
	// marked[sub-topology] says whether the sub-topology's tasks have a watermark.
	marked map[int]bool
	inputs map[topicPartition]*inputMark
	tasks  map[coordinator.TaskID]*taskMark
}

// inputMark is what is known of one input partition's event time.
type inputMark struct {
	largest    int64     // largest timestamp read (user topics)
	lastRecord time.Time // when the last record came (user topics), for idleness
	senders    map[string]senderMark
}

type senderMark struct {
	ms   int64
	idle bool
}

// taskMark is one task's watermark and what it last announced downstream.
type taskMark struct {
	ms            int64
	idle          bool
	announced     int64
	announcedIdle bool
	announcedAt   time.Time
}

func newWatermarks(e *Engine) *watermarks {
	w := &watermarks{e: e, specs: map[string]*runtime.WatermarkSpec{}, writers: map[string]int{}, marked: map[int]bool{},
		inputs: map[topicPartition]*inputMark{}, tasks: map[coordinator.TaskID]*taskMark{}}
	for _, st := range e.prog.SubTopologies {
		for _, src := range st.Sources {
			if src.Watermark == nil {
				continue
			}
			w.marked[st.ID] = true
			for _, id := range src.Topics {
				w.specs[e.topics[id].name] = src.Watermark
			}
		}
	}
	// A sub-topology reading a repartition topic that a marked one writes is
	// marked too; sub-topologies are few, so repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, st := range e.prog.SubTopologies {
			if !w.marked[st.ID] {
				continue
			}
			for _, tid := range st.Sinks {
				t := e.topics[tid]
				if t.kind != runtime.RepartitionTopic || w.writers[t.name] > 0 {
					continue
				}
				w.writers[t.name] = int(e.parts[st.ID])
				for _, rt := range e.routes[t.name] {
					if !w.marked[rt.subTopology] {
						w.marked[rt.subTopology], changed = true, true
					}
				}
			}
		}
	}
	return w
}

// enabled reports whether any source has a watermark.
func (w *watermarks) enabled() bool { return len(w.specs) > 0 }

// start registers a task that starts at watermark ms (its committed one).
func (w *watermarks) start(t *task, ms int64) {
	if !w.marked[t.id.SubTopology] {
		return
	}
	w.tasks[t.id] = &taskMark{ms: ms, announced: runtime.NoTimestamp}
	now := time.Now()
	for _, tp := range t.inputs {
		w.inputs[tp] = &inputMark{largest: runtime.NoTimestamp, lastRecord: now, senders: map[string]senderMark{}}
	}
}

// stop forgets a task that stopped here.
func (w *watermarks) stop(t *task) {
	delete(w.tasks, t.id)
	for _, tp := range t.inputs {
		delete(w.inputs, tp)
	}
}

// clear forgets every task (all were dropped).
func (w *watermarks) clear() {
	clear(w.tasks)
	clear(w.inputs)
}

// read records a processed batch of a user topic partition: its records'
// timestamps are the ones the task's source gave them.
func (w *watermarks) read(tp topicPartition, batch []runtime.Record, now time.Time) {
	in := w.inputs[tp]
	if _, internal := w.writers[tp.topic]; in == nil || internal {
		return // a repartition topic's marks come from its upstream tasks
	}
	for i := range batch {
		in.largest = max(in.largest, batch[i].Timestamp)
	}
	in.lastRecord = now
}

// control takes a watermark control record read on a repartition topic.
func (w *watermarks) control(tp topicPartition, r *kgo.Record) {
	ms, err := strconv.ParseInt(string(r.Headers[0].Value), 10, 64)
	if err != nil {
		w.e.log.Warn("malformed watermark record ignored", "topic", tp.topic, "partition", tp.partition, "offset", r.Offset)
		return
	}
	m := senderMark{ms: ms}
	from := ""
	for _, h := range r.Headers[1:] {
		switch h.Key {
		case senderHeader:
			from = string(h.Value)
		case idleHeader:
			m.idle = true
		}
	}
	if in := w.inputs[tp]; in != nil {
		in.senders[from] = m
	}
}

// mark is an input partition's watermark, and whether it is idle (left out of
// the task's minimum).
func (w *watermarks) mark(tp topicPartition, now time.Time) (ms int64, idle bool) {
	in := w.inputs[tp]
	if in == nil {
		return runtime.NoTimestamp, false
	}
	if want, internal := w.writers[tp.topic]; internal {
		ms, active := int64(0), 0
		for _, s := range in.senders {
			if !s.idle {
				ms = min(ms, s.ms)
				if active == 0 {
					ms = s.ms
				}
				active++
			}
		}
		switch {
		case len(in.senders) < want:
			return runtime.NoTimestamp, false // an upstream task not heard from yet
		case active == 0:
			return runtime.NoTimestamp, true
		}
		return ms, false
	}
	spec := w.specs[tp.topic]
	if spec == nil {
		spec = &runtime.WatermarkSpec{} // a source without the option, in a marked task
	}
	if spec.IdleTimeout > 0 && now.Sub(in.lastRecord) >= spec.IdleTimeout {
		return runtime.NoTimestamp, true
	}
	if in.largest == runtime.NoTimestamp {
		return runtime.NoTimestamp, false
	}
	return in.largest - spec.MaxOutOfOrderness.Milliseconds() - 1, false
}

// advance recomputes task t's watermark from its inputs and hands it to the
// task when it moved forward.
func (w *watermarks) advance(t *task, now time.Time) error {
	tm := w.tasks[t.id]
	if tm == nil {
		return nil
	}
	wm, active := int64(0), 0
	for _, tp := range t.inputs {
		ms, idle := w.mark(tp, now)
		if idle {
			continue
		}
		if active == 0 || ms < wm {
			wm = ms
		}
		active++
	}
	tm.idle = active == 0
	if tm.idle || wm <= tm.ms {
		return nil
	}
	tm.ms = wm
	if wt, ok := t.t.(runtime.WatermarkTask); ok {
		if err := advanceSafely(wt, wm); err != nil {
			return &taskFailure{t.id, err}
		}
	}
	return nil
}

// advanceSafely hands a task its watermark; the suppressed results it closes
// run user functions, whose panic becomes the task's error.
func advanceSafely(wt runtime.WatermarkTask, ms int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("watermark %d: panic in user function: %v", ms, p)
		}
	}()
	return wt.AdvanceWatermark(ms)
}

// announce brings every running task's watermark up to date and sends it into
// the repartition topics it writes, before the commit that makes those writes
// visible.
func (w *watermarks) announce() error {
	e := w.e
	now := time.Now()
	for id, tm := range w.tasks {
		t := e.tasks[id]
		if t == nil {
			continue
		}
		if err := w.advance(t, now); err != nil {
			return err
		}
		if tm.ms == tm.announced && tm.idle == tm.announcedIdle && now.Sub(tm.announcedAt) < announceEvery {
			continue
		}
		headers := []kgo.RecordHeader{
			{Key: watermarkHeader, Value: []byte(strconv.FormatInt(tm.ms, 10))},
			{Key: senderHeader, Value: []byte(id.String())},
		}
		if tm.idle {
			headers = append(headers, kgo.RecordHeader{Key: idleHeader})
		}
		for _, tid := range e.prog.SubTopologies[id.SubTopology].Sinks {
			out := e.topics[tid]
			if out.kind != runtime.RepartitionTopic {
				continue
			}
			for p := int32(0); p < out.partitions; p++ {
				e.produce(t, out.name, p, nil, nil, runtime.NoTimestamp, headers)
			}
		}
		tm.announced, tm.announcedIdle, tm.announcedAt = tm.ms, tm.idle, now
	}
	return nil
}

// of is task t's watermark, or NoTimestamp.
func (w *watermarks) of(id coordinator.TaskID) int64 {
	if w == nil {
		return runtime.NoTimestamp
	}
	if tm := w.tasks[id]; tm != nil {
		return tm.ms
	}
	return runtime.NoTimestamp
}
