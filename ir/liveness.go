package ir

// ValueUsed reports whether any step after n reads the value of the records n
// emits. When none does (a grouped stream that is only counted), codegen neither
// decodes the value at a source nor writes it to a repartition topic: the
// repartition topic of such a count carries keys with empty values, since the
// program that owns it is also its only reader.
func (g *Graph) ValueUsed(n *Node) bool {
	if n.Op == OpSource && len(n.Fns) > 0 {
		return true // its timestamp extractor reads it
	}
	if n.Op == OpRepartition && len(g.Consumers(n, 0)) == 0 {
		// After Split, the reading side is the Source that shares the topic.
		for _, s := range g.Nodes {
			if s.Op == OpSource && len(s.Topics) == 1 && len(n.Topics) == 1 && s.Topics[0] == n.Topics[0] {
				return g.ValueUsed(s)
			}
		}
		return true
	}
	for port := 0; port < n.Outputs(); port++ {
		for _, c := range g.Consumers(n, port) {
			if g.readsValue(c) {
				return true
			}
		}
	}
	return false
}

// readsValue reports whether node c reads the value of its input.
func (g *Graph) readsValue(c *Node) bool {
	switch c.Op {
	case OpCount:
		return false
	case OpGroup, OpMerge, OpToStream, OpRepartition:
		return g.ValueUsed(c) // passes the value on
	}
	return true
}
