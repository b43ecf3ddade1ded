package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
)

// processFetches runs each fetched partition through the tasks reading it.
// Nothing is processed for a task this replica may no longer run (its lease
// lapsed, or the task was just taken away): that ends the batch, and catchUp
// follows the change.
//
// Records of a task whose exactly-once commit is still in flight
// (txncommit.go) are processed after the others, so that the loop works
// while that commit finishes rather than waiting for it. Once a piece of the
// batch is put off, every later piece of any of its tasks is too, so each
// task still sees its records in the order poll gives (inTimeOrder).
func (e *Engine) processFetches(ctx context.Context, fetches kgo.Fetches) error {
	var err error
	moved := false
	var later []kgo.FetchTopicPartition
	var waiting map[coordinator.TaskID]bool // tasks with records put off
	run := func(ftp kgo.FetchTopicPartition) bool {
		for _, rt := range e.routes[ftp.Topic] {
			id := coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}
			if e.tasks[id] != nil && !e.node.MayRun(id) {
				moved = true
				return false
			}
		}
		for _, rt := range e.routes[ftp.Topic] {
			if t := e.tasks[coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}]; t != nil {
				if err = e.settleTask(t); err != nil {
					return false // its transaction failed: the loop rolls it back
				}
			}
		}
		err = e.processPartition(ftp)
		return err == nil
	}
	stopped := false
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) { // in time order already (poll)
		if stopped {
			return
		}
		e.metrics.observeLag(ftp)
		if len(ftp.Records) == 0 {
			return
		}
		if e.putOff(ftp, &waiting) {
			later = append(later, ftp)
			return
		}
		stopped = !run(ftp)
	})
	for _, ftp := range later {
		if moved || err != nil || !run(ftp) {
			break
		}
	}
	if moved {
		return e.catchUp(ctx)
	}
	return err
}

// putOff reports whether ftp waits until the end of the batch: one of its
// tasks has a commit in flight or records put off already. It then counts
// all of its tasks in waiting.
func (e *Engine) putOff(ftp kgo.FetchTopicPartition, waiting *map[coordinator.TaskID]bool) bool {
	if e.pendingCommits == 0 && len(*waiting) == 0 {
		return false
	}
	off := false
	for _, rt := range e.routes[ftp.Topic] {
		id := coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}
		if (*waiting)[id] {
			off = true
		} else if t := e.tasks[id]; t != nil && t.committing != nil && !t.committing.finished() {
			off = true
		}
	}
	if !off {
		return false
	}
	if *waiting == nil {
		*waiting = map[coordinator.TaskID]bool{}
	}
	for _, rt := range e.routes[ftp.Topic] {
		(*waiting)[coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}] = true
	}
	return true
}

// processPartition runs one fetched partition's records through every source
// reading the topic, and advances the position to commit. Barrier control
// records are taken out of the batch and counted; user code never sees them.
//
// franz-go decodes a fetched batch into one []kgo.Record, so fetching costs
// allocations per batch, not per record. Its pool for those slices
// (kgo.PoolRecords) was measured and left out: it saves no allocation, only
// about 170 bytes a record of garbage, at the price of a Recycle per record
// and, behind a backlog, of tens of megabytes kept (peak RSS 203 MB instead
// of 178 MB on bench/e2e). The keys and values (the fetched bytes) could not
// be pooled anyway: decoded values and caches alias them.
func (e *Engine) processPartition(ftp kgo.FetchTopicPartition) error {
	e.batch = e.batch[:0]
	for _, r := range ftp.Records {
		if r.Attrs.IsControl() {
			continue // a transaction marker (exactly-once)
		}
		if len(r.Headers) > 0 && r.Headers[0].Key == barrierHeader {
			e.ckpt.barrier(ftp.Topic, ftp.Partition, r)
			continue
		}
		if len(r.Headers) > 0 && r.Headers[0].Key == watermarkHeader {
			e.wm.control(topicPartition{ftp.Topic, ftp.Partition}, r)
			continue
		}
		e.batch = append(e.batch, runtime.Record{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value,
		})
	}
	tp := topicPartition{ftp.Topic, ftp.Partition}
	next := ftp.Records[len(ftp.Records)-1].Offset + 1
	if len(e.batch) == 0 {
		e.positions[tp] = next
		return nil
	}
	routes := e.routes[ftp.Topic]
	if len(routes) > 1 {
		// A source's timestamp extractor rewrites Timestamp in place; each
		// source reading the topic must start from the Kafka records' own.
		e.batchTimes = e.batchTimes[:0]
		for i := range e.batch {
			e.batchTimes = append(e.batchTimes, e.batch[i].Timestamp)
		}
	}
	for i, rt := range routes {
		t := e.tasks[coordinator.TaskID{SubTopology: rt.subTopology, Partition: ftp.Partition}]
		if t == nil {
			continue // read for another task of this replica; this one is not here
		}
		if i > 0 {
			for j := range e.batch {
				e.batch[j].Timestamp = e.batchTimes[j]
			}
		}
		if failedAt, err := e.process(t, rt.source, e.batch); err != nil {
			e.positions[tp] = min(next, failedAt)
			return &recordFailure{err}
		}
		if t.processed == 0 {
			// When a moved task is back at work, its restore included.
			e.log.Info("task processing", "task", t.id, "since_started", time.Since(t.startedAt).Round(time.Millisecond))
		}
		t.processed += int64(len(e.batch))
		if t.processedBy != nil {
			t.processedBy.Add(float64(len(e.batch)))
		}
		if e.wm.enabled() {
			now := time.Now()
			e.wm.read(tp, e.batch, now)
			if err := e.wm.advance(t, now); err != nil {
				e.positions[tp] = next // the batch was processed
				return err
			}
		}
	}
	if e.processed == 0 {
		// How long a (re)start takes to get back to work: restores included.
		e.log.Info("first record processed", "since_start", time.Since(e.started).Round(time.Millisecond))
	}
	e.processed += int64(len(e.batch))
	e.metrics.processed.Add(float64(len(e.batch)))
	e.positions[tp] = next
	return nil
}

// process runs a batch through a task, applying the bad-record policy to records
// that cannot be decoded. On a fatal error it returns the offset of the record
// that failed: nothing at or after it may be committed.
func (e *Engine) process(t *task, source int, batch []runtime.Record) (int64, error) {
	for len(batch) > 0 {
		err := runtime.ProcessSafely(t.t, source, batch)
		if err == nil {
			return 0, nil
		}
		i := t.t.Current()
		if i < 0 || i >= len(batch) {
			return batch[0].Offset, err
		}
		var re *runtime.RecordError
		if !errors.As(err, &re) || !strings.HasPrefix(re.Stage, "decode") || e.cfg.OnBadRecord == Fail {
			if re != nil && len(re.Stack) > 0 {
				e.log.Error("user function panicked", "topic", re.Topic, "partition", re.Partition, "offset", re.Offset, "panic", re.Err, "stack", string(re.Stack))
			}
			return batch[i].Offset, err
		}
		bad := &batch[i]
		if e.cfg.OnBadRecord == DeadLetter {
			e.produce(t, e.cfg.DeadLetterTopic, 0, bad.Key, bad.Value, bad.Timestamp, []kgo.RecordHeader{
				{Key: "gofka.error", Value: []byte(re.Error())},
				{Key: "gofka.topic", Value: []byte(bad.Topic)},
				{Key: "gofka.partition", Value: []byte(strconv.Itoa(int(bad.Partition)))},
				{Key: "gofka.offset", Value: []byte(strconv.FormatInt(bad.Offset, 10))},
			})
		}
		e.countBad(bad, re.Stage)
		e.log.Warn("bad record", "policy", e.cfg.OnBadRecord, "topic", bad.Topic, "partition", bad.Partition, "offset", bad.Offset, "err", re.Err)
		batch = batch[i+1:]
	}
	return 0, nil
}

// badRecords counts the records the bad-record policy skipped or dead-lettered,
// in all and per input partition, for the final log line, /status and /metrics.
type badRecords struct {
	skipped, deadLettered int64
	byPartition           map[topicPartition]*badCount
}

type badCount struct{ skipped, deadLettered int64 }

// countBad counts a record that failed at stage (e.g. "decode value") and was
// skipped or dead-lettered, as the policy says.
func (e *Engine) countBad(r *runtime.Record, stage string) {
	tp := topicPartition{r.Topic, r.Partition}
	if e.bad.byPartition == nil {
		e.bad.byPartition = map[topicPartition]*badCount{}
	}
	c := e.bad.byPartition[tp]
	if c == nil {
		c = &badCount{}
		e.bad.byPartition[tp] = c
	}
	if e.cfg.OnBadRecord == DeadLetter {
		e.bad.deadLettered++
		c.deadLettered++
		e.metrics.deadLettered.WithLabelValues(tp.topic, itoa(tp.partition)).Inc()
		return
	}
	e.bad.skipped++
	c.skipped++
	e.metrics.skipped.WithLabelValues(tp.topic, itoa(tp.partition), strings.ReplaceAll(stage, " ", "_")).Inc()
}
