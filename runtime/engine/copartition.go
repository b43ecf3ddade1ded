package engine

import (
	"fmt"
	"strings"

	"github.com/gofka/streams/runtime"
)

// Co-partitioning at start-up. A join reads its two sides by key in one task
// per partition, so their topics must have as many partitions: the program
// lists them in CopartitionGroups (ir.CopartitionGroups). The user's topics of
// a group must already agree, or the engine stops before creating anything,
// naming them; a repartition topic of a group is sized as the group's
// external topics, whatever the width of the sub-topology that writes it, as
// Kafka Streams sizes the repartition topics of a co-partition group.
//
//	source topics' partition counts ──copartitionSizes──▶ error naming a group that disagrees
//	                                                   └─▶ width of each repartition topic in a group

// copartitionSizes checks the external topics of every co-partition group
// (their counts are in topics) and returns the width each repartition topic
// of a group must have.
func copartitionSizes(p *runtime.Program, topics []*topicInfo) (map[runtime.TopicID]int32, error) {
	forced := map[runtime.TopicID]int32{}
	var problems []string
	for _, g := range p.CopartitionGroups {
		var n int32
		agree := true
		var listed []string
		for _, id := range g.Topics {
			t := topics[id]
			if t.kind == runtime.RepartitionTopic {
				continue
			}
			listed = append(listed, fmt.Sprintf("%s (%d)", t.name, t.partitions))
			if n == 0 {
				n = t.partitions
			} else if t.partitions != n {
				agree = false
			}
		}
		if !agree {
			problems = append(problems, fmt.Sprintf("%s reads topics that must be co-partitioned but have different partition counts: %s; give them the same number of partitions",
				g.Reason, strings.Join(listed, ", ")))
			continue
		}
		if n == 0 {
			continue // only repartition topics: their writers decide
		}
		for _, id := range g.Topics {
			if topics[id].kind == runtime.RepartitionTopic {
				forced[id] = n
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("co-partitioning: %s", strings.Join(problems, "; "))
	}
	return forced, nil
}
