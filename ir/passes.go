package ir

import (
	"fmt"
	"go/token"
	"regexp"
	"sort"
)

// Lower runs every pass in order and returns all the problems found. The graph is
// ready for codegen only when the result is empty.
func Lower(g *Graph) []error {
	if errs := append(Validate(g), CheckFKJoins(g)...); len(errs) > 0 {
		return errs
	}
	InsertRepartitions(g)
	InsertTableRepartitions(g)
	if errs := Name(g); len(errs) > 0 {
		return errs
	}
	Split(g)
	Fuse(g)
	return nil
}

var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// CheckTopicName applies Kafka's rules for topic names.
func CheckTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters long; Kafka allows at most 249", len(name))
	case !topicNameRE.MatchString(name):
		return fmt.Errorf("topic name %q has characters Kafka does not allow: use only a-z, A-Z, 0-9, '.', '_' and '-'", name)
	}
	return nil
}

// Validate checks that every stream reaches a sink or a store. (The frontend
// checks names: unique stores, topics read once.)
func Validate(g *Graph) []error {
	var errs []error
	for _, n := range g.Nodes {
		if n.Op.Terminal() || (n.Proc != nil && len(n.Proc.Stores) > 0) { // a processor may only keep stores
			continue
		}
		for port := 0; port < n.Outputs(); port++ {
			if len(g.Consumers(n, port)) > 0 {
				continue
			}
			switch {
			case n.Op == OpBranch && n.Fns[port] != nil:
				errs = append(errs, Errorf(n.Fns[port].Pos, "branch %d (%s) is never used: the stream it selects never reaches a sink or store", port, n.Fns[port].Display))
			case n.Op == OpBranch:
				errs = append(errs, Errorf(n.Pos, "branch %d is never used: the stream it selects never reaches a sink or store", port))
			case n.Op == OpGroup:
				errs = append(errs, Errorf(n.Pos, "grouped stream is never aggregated: call Count, Reduce or Aggregate on it"))
			case n.Op == OpRepartition:
				errs = append(errs, Errorf(n.Pos, "repartitioned stream never reaches a sink or store"))
			default:
				errs = append(errs, Errorf(n.Pos, "stream built by %s never reaches a sink or store: end it with To, or aggregate it", n.Op))
			}
		}
	}
	return errs
}

// InsertRepartitions puts a Repartition node in front of every grouping whose input
// key may have changed since the source, as Kafka Streams does: records with equal
// new keys must meet in one task before they are aggregated.
func InsertRepartitions(g *Graph) {
	for _, n := range append([]*Node(nil), g.Nodes...) {
		if n.Op != OpGroup || !n.Inputs[0].Node.KeyChanged {
			continue
		}
		in := n.Inputs[0].Node
		r := g.NewNode(OpRepartition, n.Pos, n.Inputs...)
		r.Key, r.Value = in.Key, in.Value
		r.KeySerde, r.ValueSerde = n.KeySerde, n.ValueSerde
		r.RepartitionName = n.RepartitionName
		if r.RepartitionName == "" {
			if aggs := g.Consumers(n, 0); len(aggs) == 1 && aggs[0].Store != nil {
				r.RepartitionName = aggs[0].Store.Name
			}
		}
		n.Inputs = []Port{{Node: r}}
		n.KeyChanged = false
	}
}

// Name derives the internal topics: "<name>-repartition" for repartitions and
// "<store>-changelog" for stores; the runtime prefixes the application id.
func Name(g *Graph) []error {
	var errs []error
	used := map[string]*Node{}
	unnamed := 0
	for _, n := range g.Nodes {
		if n.Op != OpRepartition {
			continue
		}
		name := n.RepartitionName
		if name == "" {
			name = fmt.Sprintf("repartition-%d", unnamed)
			unnamed++
		}
		if first, ok := used[name]; ok {
			errs = append(errs, Errorf(n.Pos, "repartition topic name %q is already used at %s: give this one another streams.Named", name, first.Pos))
			continue
		}
		used[name] = n
		n.Topics = []*Topic{{Name: name + "-repartition", Kind: RepartitionTopic}}
		errs = appendLengthErr(errs, g, n.Pos, n.Topics[0])
	}
	for _, s := range g.Stores {
		s.Changelog = &Topic{Name: s.Name + "-changelog", Kind: ChangelogTopic}
		errs = appendLengthErr(errs, g, s.Pos, s.Changelog)
	}
	return errs
}

// appendLengthErr reports an internal topic whose full name, under the default
// application id, breaks Kafka's rules.
func appendLengthErr(errs []error, g *Graph, pos token.Position, t *Topic) []error {
	if err := CheckTopicName(t.FullName(g.DefaultAppID)); err != nil {
		return append(errs, Errorf(pos, "internal topic %s: %v; choose a shorter name", t.FullName(g.DefaultAppID), err))
	}
	return errs
}

// Split cuts the graph at repartition topics: each Repartition node keeps writing
// the topic in its sub-topology, and a new Source node reads it back in the next.
// Nodes are then renumbered in topological order and grouped into sub-topologies.
func Split(g *Graph) {
	for _, r := range append([]*Node(nil), g.Nodes...) {
		if r.Op != OpRepartition {
			continue
		}
		consumers := g.Consumers(r, 0)
		src := g.NewNode(OpSource, r.Pos)
		src.Key, src.Value = r.Key, r.Value
		src.KeySerde, src.ValueSerde = r.KeySerde, r.ValueSerde
		src.Topics = r.Topics
		src.Changes = r.Changes
		for _, c := range consumers {
			for i := range c.Inputs {
				if c.Inputs[i].Node == r {
					c.Inputs[i] = Port{Node: src}
				}
			}
		}
	}
	renumber(g)

	// Union the nodes joined by an edge; a component is a sub-topology.
	parent := make([]int, len(g.Nodes))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			a, b := find(n.ID), find(in.Node.ID)
			if a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	byRoot := map[int]*SubTopology{}
	g.SubTopologies = nil
	for _, n := range g.Nodes { // ID order, so sub-topologies number by their first node
		root := find(n.ID)
		st, ok := byRoot[root]
		if !ok {
			st = &SubTopology{ID: len(g.SubTopologies)}
			byRoot[root] = st
			g.SubTopologies = append(g.SubTopologies, st)
		}
		n.SubTopology = st.ID
		st.Nodes = append(st.Nodes, n)
		st.Stores = append(st.Stores, n.AllStores()...)
	}
}

// renumber orders the nodes topologically, breaking ties by creation order, and
// makes each node's ID its index.
func renumber(g *Graph) {
	indeg := map[*Node]int{}
	for _, n := range g.Nodes {
		indeg[n] = len(n.Inputs)
	}
	var order []*Node
	done := map[*Node]bool{}
	for len(order) < len(g.Nodes) {
		progressed := false
		for _, n := range g.Nodes {
			if done[n] || indeg[n] > 0 {
				continue
			}
			done[n] = true
			order = append(order, n)
			for _, c := range g.Nodes {
				for _, in := range c.Inputs {
					if in.Node == n {
						indeg[c]--
					}
				}
			}
			progressed = true
			break // restart so the lowest-numbered ready node always goes next
		}
		if !progressed {
			panic("ir: cycle in topology graph") // the DSL cannot express one
		}
	}
	for i, n := range order {
		n.ID = i
	}
	g.Nodes = order
	sort.SliceStable(g.Stores, func(i, j int) bool { return g.Stores[i].Node.ID < g.Stores[j].Node.ID })
}

// Fuse finds each sub-topology's segments: the source nodes, whose chains become
// one loop over the fetched batch, and the merge and join nodes, where two chains
// meet and the rest of the chain becomes one method both call.
func Fuse(g *Graph) {
	for _, st := range g.SubTopologies {
		st.Segments = nil
		for _, n := range st.Nodes {
			if n.Op == OpSource || n.Op == OpTable {
				st.Segments = append(st.Segments, n)
			}
		}
		for _, n := range st.Nodes {
			if n.Op.Meets() {
				st.Segments = append(st.Segments, n)
			}
		}
	}
}
