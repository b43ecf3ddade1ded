package ir

// Null keys (Kafka Streams 3.7+, KIP-962). Stateful steps and inner joins drop
// (and count) a record whose key is null; the joins below keep it, joined
// with nil for the side it cannot meet. A repartition drops null keys unless
// such a join reads, directly or further down, what it writes (Kafka Streams'
// NodesWithRelaxedNullKeyJoinDownstream).

// KeepsNullKeys reports a join that keeps a record with a null key: a left or
// outer stream-stream join, a left stream-table or stream-global join.
func (n *Node) KeepsNullKeys() bool {
	switch n.Op {
	case OpJoin:
		return n.Join.Kind != InnerJoin
	case OpStreamTableJoin:
		return n.TableJoin.Kind == LeftJoin
	case OpLeftGlobal:
		return true
	}
	return false
}

// keepsNullKeysFrom reports that join n keeps the null keys coming from in:
// from its stream (left) side, or either side of an outer join.
func (n *Node) keepsNullKeysFrom(in *Node) bool {
	if !n.KeepsNullKeys() {
		return false
	}
	return n.Inputs[0].Node == in || (n.Op == OpJoin && n.Join.Kind == OuterJoin)
}

// NullKeysWanted reports that a join keeping the null keys of n's records is
// downstream of n, through repartition topics too.
func (g *Graph) NullKeysWanted(n *Node) bool {
	seen := map[*Node]bool{}
	var walk func(n *Node) bool
	walk = func(n *Node) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		var next []*Node
		for port := range n.Outputs() {
			next = append(next, g.Consumers(n, port)...)
		}
		if n.Op == OpRepartition && len(next) == 0 { // after Split: the Source reading its topic
			for _, s := range g.Nodes {
				if s.Op == OpSource && len(s.Topics) == 1 && len(n.Topics) == 1 && s.Topics[0] == n.Topics[0] {
					next = append(next, s)
				}
			}
		}
		for _, c := range next {
			if c.keepsNullKeysFrom(n) || walk(c) {
				return true
			}
		}
		return false
	}
	return walk(n)
}

// RepartitionWriter is the Repartition node writing internal topic tp, or nil.
func (g *Graph) RepartitionWriter(tp *Topic) *Node {
	for _, n := range g.Nodes {
		if n.Op == OpRepartition && len(n.Topics) == 1 && n.Topics[0] == tp {
			return n
		}
	}
	return nil
}
