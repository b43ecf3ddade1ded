package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofka/streams/runtime"
)

// countProgram is click-count's shape: sub-topology 0 reads clicks and writes
// the repartition topic rep; sub-topology 1 reads rep, counts into a store
// (changelog cl) and writes out.
func countProgram() *runtime.Program {
	return &runtime.Program{
		Topics: []runtime.TopicSpec{
			{Name: "clicks", Kind: runtime.SourceTopic},
			{Name: "rep", Kind: runtime.RepartitionTopic},
			{Name: "cl", Kind: runtime.ChangelogTopic},
			{Name: "out", Kind: runtime.SinkTopic},
		},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1}},
			{ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{1}}}, Sinks: []runtime.TopicID{3, 2}, Stores: []int{0}},
		},
		Stores: []runtime.StoreSpec{{Name: "counts", Changelog: 2, Persistent: true, SubTopology: 1}},
	}
}

// infos are the program's topics as the engine names them (the spec names here).
func infos(p *runtime.Program) []*topicInfo {
	out := make([]*topicInfo, len(p.Topics))
	for i, t := range p.Topics {
		out[i] = &topicInfo{name: t.Name, kind: t.Kind}
	}
	return out
}

func TestPlanPartitionsCreatesInternalTopicsAsWideAsTheirWriter(t *testing.T) {
	p := countProgram()
	topics := infos(p)
	plan, err := planPartitions(p, topics, map[string]int32{"clicks": 6, "out": 2}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan.parts, []int32{6, 6}) {
		t.Errorf("tasks per sub-topology %v, want [6 6]", plan.parts)
	}
	want := []topicCreate{{topics: []string{"cl"}, partitions: 6, compacted: true}, {topics: []string{"rep"}, partitions: 6, repartition: true}}
	if !reflect.DeepEqual(plan.create, want) {
		t.Errorf("create %+v, want %+v", plan.create, want)
	}
	for i, n := range []int32{6, 6, 6, 2} {
		if topics[i].partitions != n {
			t.Errorf("topic %s: %d partitions, want %d", topics[i].name, topics[i].partitions, n)
		}
	}
}

func TestPlanPartitionsMissingSources(t *testing.T) {
	p := countProgram()
	if _, err := planPartitions(p, infos(p), nil, false, 3); err == nil || !strings.Contains(err.Error(), "source topics do not exist: [clicks]") {
		t.Errorf("without topic creation: err = %v", err)
	}
	plan, err := planPartitions(p, infos(p), nil, true, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.create) != 4 || !reflect.DeepEqual(plan.create[0], topicCreate{topics: []string{"clicks"}, partitions: 3}) {
		t.Errorf("create %+v, want clicks with 3 partitions first, then the internal topics (the sink apart from the repartition topic, which is never deleted by time)", plan.create)
	}
	if !reflect.DeepEqual(plan.parts, []int32{3, 3}) {
		t.Errorf("tasks per sub-topology %v, want [3 3]", plan.parts)
	}
}

func TestPlanPartitionsExistingInternalTopics(t *testing.T) {
	p := countProgram()
	plan, err := planPartitions(p, infos(p), map[string]int32{"clicks": 4, "rep": 4, "cl": 4, "out": 1}, false, 1)
	if err != nil || len(plan.create) != 0 {
		t.Errorf("all topics exist: create %+v, err %v; want nothing to create", plan.create, err)
	}
	_, err = planPartitions(p, infos(p), map[string]int32{"clicks": 4, "rep": 4, "cl": 2}, false, 1)
	if err == nil || !strings.Contains(err.Error(), "internal topic cl has 2 partitions, want 4") {
		t.Errorf("changelog of the wrong width: err = %v", err)
	}
}

func TestPlanPartitionsCoPartitioning(t *testing.T) {
	p := mergeProgram()
	_, err := planPartitions(p, infos(p), map[string]int32{"a": 2, "b": 3}, false, 1)
	if err == nil || !strings.Contains(err.Error(), "co-partitioning mismatch in sub-topology 0: a has 2 partitions but b has 3") {
		t.Errorf("err = %v", err)
	}
	plan, err := planPartitions(p, infos(p), map[string]int32{"a": 5, "b": 5}, false, 1)
	// A missing sink topic is created as wide as the sub-topology writing it.
	if want := []topicCreate{{topics: []string{"out"}, partitions: 5}}; err != nil || !reflect.DeepEqual(plan.parts, []int32{5}) || !reflect.DeepEqual(plan.create, want) {
		t.Errorf("plan %+v, err %v; want 5 tasks and out created with 5 partitions", plan, err)
	}
}

// TestPlanWindowedChangelogs checks that the changelogs of window and session
// stores are created compacted and deleted by time, kept for the store's
// retention plus a day (Kafka Streams' windowstore.changelog.additional.retention.ms),
// while those of key-value stores and suppression buffers are only compacted.
func TestPlanWindowedChangelogs(t *testing.T) {
	p := &runtime.Program{
		Topics: []runtime.TopicSpec{
			{Name: "in", Kind: runtime.SourceTopic},
			{Name: "kv-changelog", Kind: runtime.ChangelogTopic},
			{Name: "win-changelog", Kind: runtime.ChangelogTopic},
			{Name: "sess-changelog", Kind: runtime.ChangelogTopic},
			{Name: "sup-changelog", Kind: runtime.ChangelogTopic},
			{Name: "win2-changelog", Kind: runtime.ChangelogTopic},
		},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}}, Sinks: []runtime.TopicID{1, 2, 3, 4, 5}, Stores: []int{0, 1, 2, 3, 4}},
		},
		Stores: []runtime.StoreSpec{
			{Name: "kv", Changelog: 1, Persistent: true},
			{Name: "win", Changelog: 2, Persistent: true, Kind: runtime.WindowStore, Retention: time.Minute + 30*time.Second},
			{Name: "sess", Changelog: 3, Persistent: true, Kind: runtime.SessionStore, Retention: 5 * time.Minute},
			{Name: "sup", Changelog: 4, Persistent: true, Kind: runtime.SuppressBuffer},
			{Name: "win2", Changelog: 5, Persistent: true, Kind: runtime.WindowStore, Retention: time.Minute + 30*time.Second},
		},
	}
	plan, err := planPartitions(p, infos(p), map[string]int32{"in": 3}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	want := []topicCreate{
		{topics: []string{"kv-changelog", "sup-changelog"}, partitions: 3, compacted: true},
		{topics: []string{"win-changelog", "win2-changelog"}, partitions: 3, compacted: true, retention: 90*time.Second + day},
		{topics: []string{"sess-changelog"}, partitions: 3, compacted: true, retention: 5*time.Minute + day},
	}
	if !reflect.DeepEqual(plan.create, want) {
		t.Fatalf("create %+v, want %+v", plan.create, want)
	}
	for i, wantConfigs := range []map[string]string{
		{"cleanup.policy": "compact"},
		{"cleanup.policy": "compact,delete", "retention.ms": "86490000"},
		{"cleanup.policy": "compact,delete", "retention.ms": "86700000"},
	} {
		got := map[string]string{}
		for k, v := range plan.create[i].configs() {
			got[k] = *v
		}
		if !reflect.DeepEqual(got, wantConfigs) {
			t.Errorf("configs of %v = %v, want %v", plan.create[i].topics, got, wantConfigs)
		}
	}
	if got := (topicCreate{topics: []string{"out"}}).configs(); got != nil {
		t.Errorf("configs of a sink topic = %v, want none", got)
	}
}

// TestRepartitionTopicsKeptForever checks that repartition topics are created
// never to be deleted by time (their records carry event time, which may be
// older than any retention), and the other topics as before.
func TestRepartitionTopicsKeptForever(t *testing.T) {
	p := countProgram()
	plan, err := planPartitions(p, infos(p), map[string]int32{"clicks": 2, "out": 2}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, c := range plan.create {
		cfg := c.configs()
		if c.repartition {
			seen = true
			if ms := cfg["retention.ms"]; ms == nil || *ms != "-1" || len(cfg) != 1 {
				t.Errorf("repartition topics %v: configs %v, want only retention.ms=-1", c.topics, cfg)
			}
		} else if ms, ok := cfg["retention.ms"]; ok {
			t.Errorf("topics %v: retention.ms=%s, want the broker's default", c.topics, *ms)
		}
	}
	if !seen {
		t.Errorf("no repartition topic in the plan %+v", plan.create)
	}
}
