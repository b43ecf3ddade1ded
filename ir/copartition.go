package ir

import "fmt"

// Co-partitioning. Records with equal keys meet in one task only if the topics
// a task reads together are partitioned alike: the same number of partitions
// (and the same partitioner, which every Gofka and Kafka Streams producer
// shares). The compiler makes a side whose key changed go through a
// repartition topic, which the runtime creates with the partition count of the
// other topics of its group; what it cannot make is the user's input topics
// agree, so it records each group here and the runtime checks their partition
// counts at start-up (runtime/engine/copartition.go).
//
//	left source(s) ──┐
//	                 ├─▶ Join   ⇒   group {left topics…, right topics…}
//	right source(s) ─┘

// CopartitionGroups lists, for each node that reads two streams by key (a
// join, or either side of a foreign-key join), the topics its inputs are read from, in graph order without
// duplicates. Run it after Split, so repartitioned sides name their
// repartition topics. Groups that share a topic are merged, as Kafka Streams
// does with its co-partition groups.
func CopartitionGroups(g *Graph) []CopartitionGroup {
	var groups []CopartitionGroup
	for _, n := range g.Nodes {
		if (n.Op != OpJoin && n.Op != OpFKRespond && n.Op != OpFKResolve) || len(n.Inputs) < 2 {
			continue
		}
		seen := map[*Topic]bool{}
		var group []*Topic
		for _, in := range n.Inputs {
			for _, t := range sourceTopics(in.Node) {
				if !seen[t] {
					seen[t] = true
					group = append(group, t)
				}
			}
		}
		groups = mergeGroups(append(groups, CopartitionGroup{Topics: group, Reason: fmt.Sprintf("%s at %s", n, shortPos(n.Pos))}))
	}
	return groups
}

// sourceTopics are the topics read by the sources upstream of n in its
// sub-topology.
func sourceTopics(n *Node) []*Topic {
	if n.Op == OpSource || n.Op == OpTable {
		return n.Topics
	}
	var out []*Topic
	for _, in := range n.Inputs {
		out = append(out, sourceTopics(in.Node)...)
	}
	return out
}

// CopartitionGroup is a set of topics read together by key.
type CopartitionGroup struct {
	Topics []*Topic
	Reason string // the nodes that read them together: "Join#5 at topology.go:30:9"
}

// mergeGroups joins the groups that share a topic, keeping first-seen order.
func mergeGroups(groups []CopartitionGroup) []CopartitionGroup {
	for i := 0; i < len(groups); i++ {
		for j := i + 1; j < len(groups); j++ {
			if !shares(groups[i].Topics, groups[j].Topics) {
				continue
			}
			for _, t := range groups[j].Topics {
				if !contains(groups[i].Topics, t) {
					groups[i].Topics = append(groups[i].Topics, t)
				}
			}
			groups[i].Reason += ", " + groups[j].Reason
			groups = append(groups[:j], groups[j+1:]...)
			j = i // look again: the grown group may share with earlier ones
		}
	}
	return groups
}

func shares(a, b []*Topic) bool {
	for _, t := range b {
		if contains(a, t) {
			return true
		}
	}
	return false
}

func contains(ts []*Topic, t *Topic) bool {
	for _, x := range ts {
		if x == t || (x.Name == t.Name && x.Kind == t.Kind) {
			return true
		}
	}
	return false
}
