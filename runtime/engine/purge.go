package engine

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/runtime"
)

// Repartition topics are created with retention.ms=-1 (topics.go): their
// records carry event time, and a broker deletes by record time, so time
// retention would take records of old event time (a replay, a backfill) before
// the next task read them. Instead, as Kafka Streams' repartition purge does,
// what the application has committed is deleted:
//
//	commit (offsets durable) ─every purgeInterval─▶ DeleteRecords(repartition partition, committed offset)
//
// A task restarts from its committed offsets (rollback.go, reconcile), so no
// record below them is ever read again.

// purgeInterval is how often committed repartition records are deleted by
// default (Config.RepartitionPurgeInterval; Kafka Streams'
// repartition.purge.interval.ms default). The first purge comes one interval
// after the engine started.
const purgeInterval = 30 * time.Second

// purgeRepartitions deletes the records before the committed offsets of the
// repartition partitions among offsets, at most every purgeInterval. A failure
// is logged: the records stay until the next purge.
func (e *Engine) purgeRepartitions(ctx context.Context, offsets kadm.Offsets) {
	every := e.cfg.RepartitionPurgeInterval
	if e.lastPurge.IsZero() {
		e.lastPurge = time.Now() // the first commit: the interval starts
	}
	if every < 0 || time.Since(e.lastPurge) < every {
		return
	}
	e.lastPurge = time.Now()
	var purge kadm.Offsets
	offsets.Each(func(o kadm.Offset) {
		if e.isRepartition(o.Topic) && o.At > 0 {
			purge.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.At, LeaderEpoch: -1})
		}
	})
	if len(purge) == 0 {
		return
	}
	resp, err := e.adm.DeleteRecords(ctx, purge)
	if err == nil {
		for _, r := range resp.Sorted() {
			if r.Err != nil {
				err = r.Err
				break
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		e.log.Warn("purge committed repartition records", "err", err)
	}
}

// isRepartition reports whether topic is one of the program's repartition topics.
func (e *Engine) isRepartition(topic string) bool {
	for _, t := range e.topics {
		if t.name == topic {
			return t.kind == runtime.RepartitionTopic
		}
	}
	return false
}
