package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gofka/streams/runtime"
)

// joinProgram is a join's shape: sub-topology 0 joins topic left with the
// repartition topic rep, which sub-topology 1 writes from topic right (re-keyed).
func joinProgram() *runtime.Program {
	return &runtime.Program{
		Topics: []runtime.TopicSpec{
			{Name: "left", Kind: runtime.SourceTopic},
			{Name: "rep", Kind: runtime.RepartitionTopic},
			{Name: "right", Kind: runtime.SourceTopic},
			{Name: "out", Kind: runtime.SinkTopic},
		},
		SubTopologies: []runtime.SubTopologySpec{
			{ID: 0, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}, {Topics: []runtime.TopicID{1}}}, Sinks: []runtime.TopicID{3}},
			{ID: 1, Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{2}}}, Sinks: []runtime.TopicID{1}},
		},
		CopartitionGroups: []runtime.CopartitionGroup{{Topics: []runtime.TopicID{0, 1}, Reason: "Join#5 at topology.go:30:9"}},
	}
}

// TestCopartitionRepartitionTopicTakesTheGroupsWidth: the re-keyed side's
// repartition topic is created as wide as the other side's topic, not as its
// writer (3 tasks), so the join's tasks see both sides' keys alike.
func TestCopartitionRepartitionTopicTakesTheGroupsWidth(t *testing.T) {
	p := joinProgram()
	topics := infos(p)
	plan, err := planPartitions(p, topics, map[string]int32{"left": 2, "right": 3, "out": 2}, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan.parts, []int32{2, 3}) {
		t.Errorf("tasks per sub-topology %v, want [2 3]", plan.parts)
	}
	if want := []topicCreate{{topics: []string{"rep"}, partitions: 2, repartition: true}}; !reflect.DeepEqual(plan.create, want) {
		t.Errorf("create %+v, want %+v", plan.create, want)
	}
}

// TestCopartitionMismatchStopsNamingTopics: two joined user topics of
// different widths stop the start, with an error naming the join and both
// topics with their counts; a group of one width passes.
func TestCopartitionMismatchStopsNamingTopics(t *testing.T) {
	p := joinProgram()
	p.Topics[1] = runtime.TopicSpec{Name: "left2", Kind: runtime.SourceTopic} // both sides are user topics
	p.SubTopologies = p.SubTopologies[:1]
	_, err := planPartitions(p, infos(p), map[string]int32{"left": 2, "left2": 4, "right": 1, "out": 2}, false, 1)
	want := "co-partitioning: Join#5 at topology.go:30:9 reads topics that must be co-partitioned but have different partition counts: left (2), left2 (4)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
	if _, err := planPartitions(p, infos(p), map[string]int32{"left": 4, "left2": 4, "right": 1, "out": 2}, false, 1); err != nil {
		t.Errorf("equal widths: %v", err)
	}
}
