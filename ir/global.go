package ir

import (
	"fmt"
	"go/token"
	"go/types"
	"strings"
)

// Global is a global table (streams.GlobalTable): a topic read in full by every
// replica into a local store, before any task processes and then as it grows.
// It is not a node of the graph: no task reads its topic, so it belongs to no
// sub-topology and is not assigned; the JoinGlobal and LeftJoinGlobal nodes
// that read it point at it (Node.Global) and look keys up in the replica's copy.
//
//	global topic ──every partition, every replica──▶ store Name (RocksDB or memory)
//	stream ─▶ JoinGlobal: kg := Fns[0](k, v) ─▶ lookup kg ─▶ Fns[1](v, row) ─▶ same key k
//
// The topic is the table's changelog: no changelog topic is derived for it.
type Global struct {
	Index      int // in Graph.Globals, and so in runtime.Program.Globals
	Name       string
	Pos        token.Position
	Topic      *Topic
	Persistent bool // RocksDB rather than memory
	Key, Value types.Type
	KeySerde   *Serde
	ValueSerde *Serde
}

// IsGlobalJoin reports whether op looks up a global table.
func (op Op) IsGlobalJoin() bool { return op == OpJoinGlobal || op == OpLeftGlobal }

// describeGlobals lists the global tables after the sub-topologies.
func describeGlobals(b *strings.Builder, g *Graph, q types.Qualifier) {
	if len(g.Globals) == 0 {
		return
	}
	b.WriteString("  Global tables (read whole by every replica, not assigned)\n")
	for _, gt := range g.Globals {
		kind := "in memory"
		if gt.Persistent {
			kind = "RocksDB"
		}
		fmt.Fprintf(b, "    %s from %s (%s, the topic is its changelog) -> key %s, value %s  (%s)\n",
			gt.Name, gt.Topic.Name, kind, types.TypeString(gt.Key, q), types.TypeString(gt.Value, q), shortPos(gt.Pos))
		var users []string
		for _, n := range g.Nodes {
			if n.Global == gt {
				users = append(users, fmt.Sprintf("#%d", n.ID))
			}
		}
		if len(users) > 0 {
			fmt.Fprintf(b, "        looked up by %s\n", strings.Join(users, ", "))
		}
	}
}

// globalDetail is what describe adds to a global join node.
func globalDetail(n *Node) []string {
	if n.Global == nil {
		return nil
	}
	return []string{"looks up global table " + n.Global.Name}
}

// mermaidGlobals draws each global table as a store fed by its topic, with a
// dotted edge to the joins that look it up.
func mermaidGlobals(g *Graph, topic func(string) string) []string {
	var edges []string
	for i, gt := range g.Globals {
		id := fmt.Sprintf("g%d", i)
		edges = append(edges, fmt.Sprintf("  %s[(%q)]", id, "global "+gt.Name))
		edges = append(edges, fmt.Sprintf("  %s --> %s", topic(gt.Topic.Name), id))
		for _, n := range g.Nodes {
			if n.Global == gt {
				edges = append(edges, fmt.Sprintf("  %s -.lookup.-> n%d", id, n.ID))
			}
		}
	}
	return edges
}
