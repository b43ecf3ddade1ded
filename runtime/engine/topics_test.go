package engine

import (
	"reflect"
	"strings"
	"testing"

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
	want := []topicCreate{{topics: []string{"cl"}, partitions: 6, compacted: true}, {topics: []string{"rep"}, partitions: 6}}
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
	if len(plan.create) != 3 || !reflect.DeepEqual(plan.create[0], topicCreate{topics: []string{"clicks"}, partitions: 3}) {
		t.Errorf("create %+v, want clicks with 3 partitions first, then the internal topics", plan.create)
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
