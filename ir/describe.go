package ir

import (
	"fmt"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
)

// Describe renders a lowered graph as text: sub-topologies, and in each the nodes
// with their functions, types, topics, stores and positions. The text is stable, so
// golden tests compare it, and gofkagen describe prints it (with what codegen adds
// about the serdes it generates: codegen.Describe).
func Describe(g *Graph, pkg *types.Package) string {
	var b strings.Builder
	q := Qualifier(pkg)
	fmt.Fprintf(&b, "Topology %s (application id %q)\n", g.Name, g.DefaultAppID)
	for _, st := range g.SubTopologies {
		fmt.Fprintf(&b, "  Sub-topology %d\n", st.ID)
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "    #%d %s%s  (%s)\n", n.ID, n.Op, nodeDetail(g, n, q), shortPos(n.Pos))
			var next []string
			for port := 0; port < n.Outputs(); port++ {
				for _, c := range g.Consumers(n, port) {
					if n.Op == OpBranch {
						next = append(next, fmt.Sprintf("#%d [branch %d]", c.ID, port))
					} else {
						next = append(next, fmt.Sprintf("#%d", c.ID))
					}
				}
			}
			if len(next) > 0 {
				fmt.Fprintf(&b, "        --> %s\n", strings.Join(next, ", "))
			}
		}
	}
	describeGlobals(&b, g, q)
	return b.String()
}

// fnNames lists the user functions of n as describe shows them; a source's
// function is its timestamp extractor.
func fnNames(n *Node) string {
	if n.Proc != nil && n.Fns[0] != nil {
		return n.Proc.describe(n.Fns[0])
	}
	names := make([]string, len(n.Fns))
	for i, f := range n.Fns {
		names[i] = f.Display
	}
	list := strings.Join(names, ", ")
	if n.Op == OpSource || n.Op == OpTable {
		return "timestamp " + list
	}
	return list
}

func nodeDetail(g *Graph, n *Node, q types.Qualifier) string {
	appID := g.DefaultAppID
	var parts []string
	if len(n.Fns) > 0 {
		parts = append(parts, fnNames(n))
	}
	if len(n.Topics) > 0 && n.Window == nil {
		names := make([]string, len(n.Topics))
		for i, t := range n.Topics {
			names[i] = t.FullName(appID)
		}
		word := "topic"
		if n.Op == OpSource || n.Op == OpTable {
			word = "from"
		}
		parts = append(parts, word+" "+strings.Join(names, ", "))
	}
	if w := n.Watermark; w != nil {
		parts = append(parts, fmt.Sprintf("watermark %v out of order, idle after %v", w.MaxOutOfOrderness, w.IdleTimeout))
	}
	for _, st := range n.AllStores() {
		parts = append(parts, fmt.Sprintf("store %s (changelog %s)", st.Name, st.Changelog.FullName(appID)))
	}
	parts = append(parts, windowDetail(g, n, appID)...)
	parts = append(parts, joinDetail(n)...)
	parts = append(parts, tableJoinDetail(n)...)
	parts = append(parts, fkJoinDetail(n)...)
	parts = append(parts, globalDetail(n)...)
	if n.Op.tableTyped() {
		parts = append(parts, fmt.Sprintf("-> key %s, value %s", types.TypeString(n.Key, q), types.TypeString(n.Value, q)))
	}
	switch n.Op {
	case OpSource, OpTable, OpMap, OpFlatMap, OpSelectKey, OpMapValues, OpFlatMapValues, OpCount, OpReduce, OpAggregate, OpProcess, OpJoin, OpJoinGlobal, OpLeftGlobal, OpFKResolve:
		parts = append(parts, fmt.Sprintf("-> key %s, value %s", types.TypeString(n.Key, q), types.TypeString(n.Value, q)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// streamsPath is the DSL package's import path.
const streamsPath = "github.com/gofka/streams"

// Qualifier prints the types of pkg bare, the DSL's as the user writes them
// (streams.Windowed[string]), and others with their import path.
func Qualifier(pkg *types.Package) types.Qualifier {
	rel := types.RelativeTo(pkg)
	return func(p *types.Package) string {
		if p.Path() == streamsPath {
			return p.Name()
		}
		return rel(p)
	}
}

// shortPos prints a position with the file's base name, so descriptions do not
// depend on where the source tree lives.
func shortPos(p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}

// Mermaid renders a lowered graph as a Mermaid flowchart: one subgraph per
// sub-topology, topics as cylinders between them.
func Mermaid(g *Graph, pkg *types.Package) string {
	var b strings.Builder
	b.WriteString("graph TD\n")
	topicIDs := map[string]string{}
	topic := func(name string) string {
		if id, ok := topicIDs[name]; ok {
			return id
		}
		id := fmt.Sprintf("t%d", len(topicIDs))
		topicIDs[name] = id
		fmt.Fprintf(&b, "  %s[(%q)]\n", id, name)
		return id
	}
	var edges []string
	for _, st := range g.SubTopologies {
		fmt.Fprintf(&b, "  subgraph st%d[\"Sub-topology %d\"]\n", st.ID, st.ID)
		for _, n := range st.Nodes {
			label := fmt.Sprintf("#%d %s", n.ID, n.Op)
			if len(n.Fns) > 0 {
				label += "<br/>" + fnNames(n)
			}
			for _, s := range n.AllStores() {
				label += "<br/>store " + s.Name
			}
			label += windowLabel(n)
			if n.Join != nil {
				label += "<br/>" + n.Join.String()
			}
			fmt.Fprintf(&b, "    n%d[%q]\n", n.ID, strings.ReplaceAll(label, `"`, "'"))
		}
		b.WriteString("  end\n")
		for _, n := range st.Nodes {
			for _, in := range n.Inputs {
				edge := fmt.Sprintf("  n%d --> n%d", in.Node.ID, n.ID)
				if in.Node.Op == OpBranch {
					edge = fmt.Sprintf("  n%d -->|branch %d| n%d", in.Node.ID, in.Index, n.ID)
				}
				edges = append(edges, edge)
			}
		}
	}
	for _, n := range g.Nodes {
		for _, t := range n.Topics {
			id := topic(t.FullName(g.DefaultAppID))
			if n.Op == OpSource || n.Op == OpTable {
				edges = append(edges, fmt.Sprintf("  %s --> n%d", id, n.ID))
			} else {
				edges = append(edges, fmt.Sprintf("  n%d --> %s", n.ID, id))
			}
		}
		for _, s := range n.AllStores() {
			id := topic(s.Changelog.FullName(g.DefaultAppID))
			edges = append(edges, fmt.Sprintf("  n%d -.changelog.-> %s", n.ID, id))
		}
	}
	edges = append(edges, mermaidGlobals(g, topic)...)
	b.WriteString(strings.Join(edges, "\n"))
	b.WriteString("\n")
	return b.String()
}
