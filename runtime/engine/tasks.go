package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state/rocks"
)

// planRestore decides, for every store partition, where its restore starts: at
// the locally recorded changelog offset when local state is present and within
// the changelog, otherwise at the changelog's start into an emptied store. It
// runs before any task holds a store.
func (e *Engine) planRestore(ctx context.Context) error {
	var changelogs []string
	for _, s := range e.prog.Stores {
		name := e.topics[s.Changelog].name
		if !slices.Contains(changelogs, name) {
			changelogs = append(changelogs, name)
		}
	}
	e.restoreFrom = map[topicPartition]int64{}
	e.restoreEnd = map[topicPartition]int64{}
	if len(changelogs) == 0 {
		return nil
	}
	starts, ends, err := e.changelogBounds(ctx, changelogs)
	if err != nil {
		return err
	}
	for _, s := range e.prog.Stores {
		changelog := e.topics[s.Changelog].name
		for p := int32(0); p < e.parts[s.SubTopology]; p++ {
			start, _ := starts.Lookup(changelog, p)
			end, _ := ends.Lookup(changelog, p)
			from, why := start.Offset, "no local state"
			if s.Persistent {
				local, found, err := e.db.ChangelogOffset(s.Name, p)
				if err != nil {
					return err
				}
				switch {
				case found && local >= start.Offset && local <= end.Offset:
					from, why = local, "local state"
				case found:
					why = fmt.Sprintf("local state at changelog offset %d is outside the changelog [%d, %d]", local, start.Offset, end.Offset)
				}
				if why != "local state" {
					if err := e.db.DropStore(s.Name, p); err != nil {
						return err
					}
				}
			}
			tp := topicPartition{changelog, p}
			e.restoreFrom[tp], e.restoreEnd[tp] = from, end.Offset
			e.changelogs[tp] = end.Offset
			e.log.Info("restoring store", "store", s.Name, "partition", p, "from", why,
				"changelog_offset", from, "changelog_end", end.Offset)
		}
	}
	return nil
}

// restore replays every store partition's changelog from where planRestore
// decided to its end, writing straight to the store (not back to the changelog).
func (e *Engine) restore(ctx context.Context) error {
	begin := time.Now()
	plan := map[string]map[int32]kgo.Offset{}
	targets := map[topicPartition]*storePartition{}
	remaining := map[topicPartition]int64{} // end offsets still to reach
	newOffsets := map[rocks.StorePartition]int64{}
	for _, t := range e.tasks {
		for _, sp := range t.stores {
			tp := topicPartition{sp.changelog, sp.partition}
			from, end := e.restoreFrom[tp], e.restoreEnd[tp]
			if sp.spec.Persistent {
				newOffsets[rocks.StorePartition{Store: sp.spec.Name, Partition: sp.partition}] = end
			}
			if from >= end {
				continue
			}
			if plan[sp.changelog] == nil {
				plan[sp.changelog] = map[int32]kgo.Offset{}
			}
			plan[sp.changelog][sp.partition] = kgo.NewOffset().At(from)
			targets[tp] = sp
			remaining[tp] = end
		}
	}
	var applied int64
	if len(plan) > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.cfg.Brokers...), kgo.ConsumePartitions(plan), kgo.WithLogger(kgoLogger{e.log}))
		if err != nil {
			return err
		}
		defer cl.Close()
		for len(remaining) > 0 {
			fetches := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fetches.EachError(func(topic string, p int32, err error) {
				e.log.Warn("restore fetch failed; retrying", "topic", topic, "partition", p, "err", err)
			})
			var applyErr error
			fetches.EachRecord(func(r *kgo.Record) {
				tp := topicPartition{r.Topic, r.Partition}
				sp, ok := targets[tp]
				if !ok || applyErr != nil {
					return
				}
				if r.Value == nil {
					applyErr = sp.raw.Delete(r.Key)
				} else {
					applyErr = sp.raw.Put(r.Key, r.Value)
				}
				applied++
				if r.Offset+1 >= remaining[tp] {
					delete(remaining, tp)
				}
			})
			if applyErr != nil {
				return fmt.Errorf("restore: %w", applyErr)
			}
		}
	}
	if len(newOffsets) > 0 {
		if err := e.db.SetChangelogOffsets(newOffsets); err != nil {
			return err
		}
	}
	e.log.Info("state restored", "records", applied, "duration", time.Since(begin).Round(time.Millisecond))
	return nil
}

// changelogBounds lists the start and end offsets of every changelog partition,
// retrying while freshly created topics are not yet visible everywhere.
func (e *Engine) changelogBounds(ctx context.Context, topics []string) (starts, ends kadm.ListedOffsets, err error) {
	want := 0
	for _, t := range e.topics {
		if t.kind == runtime.ChangelogTopic {
			want += int(t.partitions)
		}
	}
	for attempt := 0; ; attempt++ {
		starts, err = e.adm.ListStartOffsets(ctx, topics...)
		if err == nil {
			ends, err = e.adm.ListEndOffsets(ctx, topics...)
		}
		if err == nil && complete(starts, want) && complete(ends, want) {
			return starts, ends, nil
		}
		if attempt == 50 {
			if err == nil {
				err = fmt.Errorf("offsets of some partitions are unavailable")
			}
			return nil, nil, fmt.Errorf("list changelog offsets: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func complete(l kadm.ListedOffsets, want int) bool {
	n := 0
	l.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n++
		}
	})
	return n == want
}
