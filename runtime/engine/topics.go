package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/gofka/streams/runtime"
)

// topicInfo is what the engine knows of one topic of the program.
type topicInfo struct {
	name       string
	kind       runtime.TopicKind
	partitions int32
	rr         uint32 // round-robin position for records without a key
}

// planTopics learns the partition count of every topic, checks co-partitioning,
// and creates the topics that are missing. It sets e.topics and e.parts.
func (e *Engine) planTopics(ctx context.Context) error {
	p := e.prog
	e.topics = make([]*topicInfo, len(p.Topics))
	var names []string
	for i, t := range p.Topics {
		e.topics[i] = &topicInfo{name: p.TopicName(e.cfg.AppID, runtime.TopicID(i)), kind: t.Kind}
		names = append(names, e.topics[i].name)
	}
	existing, err := e.describe(ctx, names...)
	if err != nil {
		return err
	}

	// Source topics the user owns must exist (the embedded broker creates them).
	var missing []string
	for _, t := range e.topics {
		if t.kind == runtime.SourceTopic {
			if n, ok := existing[t.name]; ok {
				t.partitions = n
			} else {
				missing = append(missing, t.name)
			}
		}
	}
	if len(missing) > 0 {
		if !e.cfg.CreateTopics {
			return fmt.Errorf("source topics do not exist: %v (create them, or run without --brokers for an embedded broker)", missing)
		}
		if err := e.create(ctx, e.cfg.DefaultPartitions, nil, missing...); err != nil {
			return err
		}
		for _, t := range e.topics {
			if t.kind == runtime.SourceTopic && t.partitions == 0 {
				t.partitions = e.cfg.DefaultPartitions
			}
		}
	}

	// A sub-topology has as many tasks as its inputs have partitions; inputs read
	// together must agree. Repartition topics take the count of the sub-topology
	// that writes them, so resolve until nothing changes.
	writer := map[runtime.TopicID]int{}
	for _, st := range p.SubTopologies {
		for _, id := range st.Sinks {
			writer[id] = st.ID
		}
	}
	e.parts = make([]int32, len(p.SubTopologies))
	for changed := true; changed; {
		changed = false
		for _, st := range p.SubTopologies {
			if e.parts[st.ID] != 0 {
				continue
			}
			n, known, err := e.inputPartitions(st, writer)
			if err != nil {
				return err
			}
			if known {
				e.parts[st.ID] = n
				changed = true
			}
		}
	}
	for _, st := range p.SubTopologies {
		if e.parts[st.ID] == 0 {
			return fmt.Errorf("cannot tell the partition count of sub-topology %d", st.ID)
		}
	}

	// Internal topics: repartition topics as wide as their writer, changelogs as
	// wide as their store's sub-topology, compacted.
	wantParts := map[runtime.TopicID]int32{}
	for id, st := range writer {
		wantParts[id] = e.parts[st]
	}
	for _, s := range p.Stores {
		wantParts[s.Changelog] = e.parts[s.SubTopology]
	}
	byParts := map[int32][]string{}
	var compacted = map[int32][]string{}
	for id, t := range e.topics {
		want, ok := wantParts[runtime.TopicID(id)]
		if !ok {
			continue
		}
		if n, ok := existing[t.name]; ok {
			if t.kind.Internal() && n != want {
				return fmt.Errorf("internal topic %s has %d partitions, want %d: delete it (and the state directory) to reset the application", t.name, n, want)
			}
			t.partitions = n
			continue
		}
		t.partitions = want
		if t.kind == runtime.ChangelogTopic {
			compacted[want] = append(compacted[want], t.name)
		} else {
			byParts[want] = append(byParts[want], t.name)
		}
	}
	compact := "compact"
	for n, topics := range compacted {
		if err := e.create(ctx, n, map[string]*string{"cleanup.policy": &compact}, topics...); err != nil {
			return err
		}
	}
	for n, topics := range byParts {
		if err := e.create(ctx, n, nil, topics...); err != nil {
			return err
		}
	}
	if e.cfg.OnBadRecord == DeadLetter {
		dl, err := e.describe(ctx, e.cfg.DeadLetterTopic)
		if err != nil {
			return err
		}
		if _, ok := dl[e.cfg.DeadLetterTopic]; !ok {
			if err := e.create(ctx, 1, nil, e.cfg.DeadLetterTopic); err != nil {
				return err
			}
		}
	}
	return nil
}

// inputPartitions is the partition count shared by a sub-topology's inputs.
func (e *Engine) inputPartitions(st runtime.SubTopologySpec, writer map[runtime.TopicID]int) (int32, bool, error) {
	var n int32
	var first string
	for _, src := range st.Sources {
		for _, id := range src.Topics {
			t := e.topics[id]
			c := t.partitions
			if t.kind == runtime.RepartitionTopic {
				c = e.parts[writer[id]]
			}
			if c == 0 {
				return 0, false, nil
			}
			if n == 0 {
				n, first = c, t.name
			} else if c != n {
				return 0, false, fmt.Errorf("co-partitioning mismatch in sub-topology %d: %s has %d partitions but %s has %d; inputs read together must have the same partition count", st.ID, first, n, t.name, c)
			}
		}
	}
	return n, true, nil
}

// describe returns the partition counts of the topics that exist.
func (e *Engine) describe(ctx context.Context, topics ...string) (map[string]int32, error) {
	details, err := e.adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe topics: %w", err)
	}
	out := map[string]int32{}
	for name, d := range details {
		if d.Err != nil {
			if errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
				continue
			}
			return nil, fmt.Errorf("describe topic %s: %w", name, d.Err)
		}
		out[name] = int32(len(d.Partitions))
	}
	return out, nil
}

// create makes topics with n partitions, tolerating ones that appeared meanwhile.
func (e *Engine) create(ctx context.Context, n int32, configs map[string]*string, topics ...string) error {
	sort.Strings(topics)
	resp, err := e.adm.CreateTopics(ctx, n, -1, configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
		e.log.Info("created topic", "topic", r.Topic, "partitions", n)
	}
	// The client looked these topics up before they existed and would keep that
	// answer for a while (offset commits consult it): forget it.
	e.producer.PurgeTopicsFromClient(topics...)
	return nil
}
