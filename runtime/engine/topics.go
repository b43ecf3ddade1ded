package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

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
	// A topic created just before the start reaches a broker's metadata a
	// moment after its CreateTopics returned: look again briefly before
	// calling a source topic missing.
	for wait := 0; err == nil && !e.cfg.CreateTopics && wait < sourceTopicLooks && missingSource(e.topics, existing); wait++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		existing, err = e.describe(ctx, names...)
	}
	if err != nil {
		return err
	}
	plan, err := planPartitions(p, e.topics, existing, e.cfg.CreateTopics, e.cfg.DefaultPartitions)
	if err != nil {
		return err
	}
	e.parts = plan.parts
	for _, c := range plan.create {
		if err := e.create(ctx, c.partitions, c.configs(), c.topics...); err != nil {
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

// sourceTopicLooks is how many more times, 250 ms apart, planTopics looks for
// source topics it did not find.
const sourceTopicLooks = 12

// missingSource reports whether a source topic is not in existing.
func missingSource(topics []*topicInfo, existing map[string]int32) bool {
	for _, t := range topics {
		if _, ok := existing[t.name]; !ok && t.kind == runtime.SourceTopic {
			return true
		}
	}
	return false
}

// topicPlan is what planPartitions decides.
type topicPlan struct {
	parts  []int32       // tasks (partitions) per sub-topology
	create []topicCreate // topics to create, sources first
}

// topicCreate is a set of topics created together.
type topicCreate struct {
	topics     []string
	partitions int32
	compacted  bool // changelogs: cleanup.policy=compact
	// retention is set for the changelogs of windowed stores, which are
	// compacted and deleted by time: cleanup.policy=compact,delete and
	// retention.ms = retention (the store's + WindowChangelogExtraRetention).
	retention time.Duration
	// repartition topics are never deleted by time (retention.ms=-1), as
	// Kafka Streams' are: their records carry event time, so a replay of
	// old data would lose records to the broker's time retention before the
	// next task read them; purge.go deletes what was committed instead.
	repartition bool
}

// configs are the topic configs to create the topics with.
func (c topicCreate) configs() map[string]*string {
	switch {
	case c.repartition:
		ms := "-1"
		return map[string]*string{"retention.ms": &ms}
	case c.retention > 0:
		policy, ms := "compact,delete", strconv.FormatInt(c.retention.Milliseconds(), 10)
		return map[string]*string{"cleanup.policy": &policy, "retention.ms": &ms}
	case c.compacted:
		policy := "compact"
		return map[string]*string{"cleanup.policy": &policy}
	}
	return nil
}

// planPartitions decides, from the program and the partition counts of the
// topics that exist, every topic's partition count (set in topics) and every
// sub-topology's task count, and which topics to create. It touches no broker,
// so that a plan that cannot work is refused before anything is created.
func planPartitions(p *runtime.Program, topics []*topicInfo, existing map[string]int32, createSources bool, defaultPartitions int32) (topicPlan, error) {
	var plan topicPlan
	// Source topics the user owns must exist (the embedded broker creates them).
	var missing []string
	for _, t := range topics {
		if t.kind != runtime.SourceTopic {
			continue
		}
		if n, ok := existing[t.name]; ok {
			t.partitions = n
		} else {
			missing = append(missing, t.name)
			t.partitions = defaultPartitions
		}
	}
	if len(missing) > 0 {
		if !createSources {
			return plan, fmt.Errorf("source topics do not exist: %v (create them, or run without --brokers for an embedded broker)", missing)
		}
		plan.create = append(plan.create, topicCreate{topics: missing, partitions: defaultPartitions})
	}
	forced, err := copartitionSizes(p, topics)
	if err != nil {
		return plan, err
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
	plan.parts = make([]int32, len(p.SubTopologies))
	for changed := true; changed; {
		changed = false
		for _, st := range p.SubTopologies {
			if plan.parts[st.ID] != 0 {
				continue
			}
			n, known, err := inputPartitions(st, topics, plan.parts, writer, forced)
			if err != nil {
				return plan, err
			}
			if known {
				plan.parts[st.ID] = n
				changed = true
			}
		}
	}
	for _, st := range p.SubTopologies {
		if plan.parts[st.ID] == 0 {
			return plan, fmt.Errorf("cannot tell the partition count of sub-topology %d", st.ID)
		}
	}
	create, err := planInternal(p, topics, existing, plan.parts, writer, forced)
	plan.create = append(plan.create, create...)
	return plan, err
}

// planInternal sizes the topics the application writes: repartition topics
// and missing sink topics as wide as their writer, changelogs as wide as their
// store's sub-topology, and compacted. An
// existing internal topic of another width is an error: keys would land on
// other tasks than the state that holds them.
func planInternal(p *runtime.Program, topics []*topicInfo, existing map[string]int32, parts []int32, writer map[runtime.TopicID]int, forced map[runtime.TopicID]int32) ([]topicCreate, error) {
	wantParts := map[runtime.TopicID]int32{}
	for id, st := range writer {
		wantParts[id] = parts[st]
	}
	for id, n := range forced { // repartition topics of a co-partition group (copartition.go)
		wantParts[id] = n
	}
	retention := map[runtime.TopicID]time.Duration{}
	for _, s := range p.Stores {
		wantParts[s.Changelog] = parts[s.SubTopology]
		if s.Kind.Windowed() {
			retention[s.Changelog] = s.Retention + runtime.WindowChangelogExtraRetention
		}
	}
	type group struct {
		partitions  int32
		compacted   bool
		retention   time.Duration
		repartition bool
	}
	groups := map[group][]string{}
	for id, t := range topics {
		want, ok := wantParts[runtime.TopicID(id)]
		if !ok {
			continue
		}
		if n, ok := existing[t.name]; ok {
			if t.kind.Internal() && n != want {
				return nil, fmt.Errorf("internal topic %s has %d partitions, want %d: delete it (and the state directory) to reset the application", t.name, n, want)
			}
			t.partitions = n
			continue
		}
		t.partitions = want
		g := group{want, t.kind == runtime.ChangelogTopic, retention[runtime.TopicID(id)], t.kind == runtime.RepartitionTopic}
		groups[g] = append(groups[g], t.name)
	}
	var out []topicCreate
	for g, names := range groups {
		out = append(out, topicCreate{topics: names, partitions: g.partitions, compacted: g.compacted, retention: g.retention, repartition: g.repartition})
	}
	// Compacted first, repartition topics last, then by width, then by retention: a stable order for logs and tests.
	slices.SortFunc(out, func(a, b topicCreate) int {
		if a.compacted != b.compacted {
			if a.compacted {
				return -1
			}
			return 1
		}
		if a.repartition != b.repartition {
			if a.repartition {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.partitions, b.partitions), cmp.Compare(a.retention, b.retention))
	})
	return out, nil
}

// inputPartitions is the partition count shared by a sub-topology's inputs,
// known once those of the sub-topologies writing its repartition inputs are.
func inputPartitions(st runtime.SubTopologySpec, topics []*topicInfo, parts []int32, writer map[runtime.TopicID]int, forced map[runtime.TopicID]int32) (int32, bool, error) {
	var n int32
	var first string
	for _, src := range st.Sources {
		for _, id := range src.Topics {
			t := topics[id]
			c := t.partitions
			if n, ok := forced[id]; ok {
				c = n
			} else if t.kind == runtime.RepartitionTopic {
				c = parts[writer[id]]
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
