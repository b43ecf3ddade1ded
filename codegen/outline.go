package codegen

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gofka/streams/ir"
)

// The generated comments name nodes as ir does (Filter#3), topics and stores as the
// Program's tables do: topic "click-counts-repartition" is the entry
// {Name: "click-counts-repartition", Kind: runtime.RepartitionTopic}, whatever
// application id the program later runs under.

// topicRef names a topic in a comment the way the Program's topic table holds it.
func topicRef(t *ir.Topic) string { return fmt.Sprintf("topic %q", t.Name) }

// topicsRef names the topics of a source: topic "a", or topics "a", "b".
func topicsRef(ts []*ir.Topic) string {
	if len(ts) == 1 {
		return topicRef(ts[0])
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = fmt.Sprintf("%q", t.Name)
	}
	return "topics " + strings.Join(names, ", ")
}

// storeRef names a store in a comment the way the Program's store table holds it.
func storeRef(s *ir.Store) string { return fmt.Sprintf("store %q", s.Name) }

// posRef is a position in the user's files as comments show it: topology.go:12:7.
func posRef(n *ir.Node) string {
	return fmt.Sprintf("%s:%d:%d", filepath.Base(n.Pos.Filename), n.Pos.Line, n.Pos.Column)
}

// label names node n in an outline: Sink#4 topic "alerts", Count#9 store "per-host".
// A merge reached from one of its inputs is drawn on its own, after the tree it is
// reached from.
func (t *taskGen) label(n *ir.Node) string {
	s := n.String()
	switch n.Op {
	case ir.OpSource, ir.OpTable:
		s += " " + topicsRef(n.Topics)
	case ir.OpSink, ir.OpRepartition:
		s += " " + topicRef(n.Topics[0])
	case ir.OpMerge, ir.OpJoin:
		s += " (below)"
	}
	for _, st := range n.AllStores() {
		s += " " + storeRef(st)
	}
	return s
}

// consumers returns the nodes reading port of n, a node once per input reading it
// (s.Merge(s) reads s twice): the generated code runs each once per entry.
func (t *taskGen) consumers(n *ir.Node, port int) []*ir.Node {
	var out []*ir.Node
	for _, c := range t.graph.Consumers(n, port) {
		for i, in := range c.Inputs {
			if c.Op == ir.OpFKResolve && i == 1 {
				continue // a foreign-key join's result only reads the left table's store
			}
			if in.Node == n && in.Index == port {
				out = append(out, c)
			}
		}
	}
	return out
}

// chain follows n through nodes with a single consumer and returns their labels
// joined by arrows, with the node it stops at: a Branch, a fan-out, a merge, or the
// end of the line.
func (t *taskGen) chain(n *ir.Node) (string, *ir.Node) {
	s := t.label(n)
	for !n.Op.Meets() && n.Op != ir.OpBranch {
		cs := t.consumers(n, 0)
		if len(cs) != 1 {
			break
		}
		n = cs[0]
		s += " → " + t.label(n)
	}
	return s, n
}

// brief is what a code block reached through port of n runs, on one line: the
// chain of its single consumer, the consumers of a fan-out, or "dropped".
func (t *taskGen) brief(n *ir.Node, port int) string {
	cs := t.consumers(n, port)
	switch len(cs) {
	case 0:
		return "dropped"
	case 1:
		s, _ := t.chain(cs[0])
		return s
	}
	labels := make([]string, len(cs))
	for i, c := range cs {
		labels[i] = c.String()
	}
	return "fan-out to " + strings.Join(labels, ", ")
}

// fnRef names user function f as the generated code calls it.
func (t *taskGen) fnRef(f *ir.Func) string {
	if name, ok := t.literals[f]; ok {
		return name
	}
	return f.Code.String()
}

// branchComment heads the block of branch i of Branch n.
func (t *taskGen) branchComment(n *ir.Node, i int) string {
	return fmt.Sprintf("branch %d of %s at %s: %s → %s", i, n, posRef(n), t.fnRef(n.Fns[i]), t.brief(n, i))
}

// fanOutComment heads the code of consumer c, the i-th (from 0) of the n
// consumers of from's output.
func (t *taskGen) fanOutComment(from, c *ir.Node, i, n int) string {
	s, _ := t.chain(c)
	return fmt.Sprintf("fan-out %d of %d from %s: %s", i+1, n, from, s)
}

// outline draws the sub-topology as a tree for the task's doc comment, one tree
// per segment (each source, then each merge), with chains of single consumers on
// one line:
//
//	Source#0 topic "words"
//	├─ Filter#1 → Sink#2 topic "a-words"
//	├─ Branch#3
//	│  ├─ branch 0 (isShort): Sink#4 topic "short"
//	│  └─ branch 1 (isLong): dropped
//	└─ Merge#5 (below)
//
//	Merge#5 (of Source#0)
//	├─ ...
func (t *taskGen) outline() []string {
	var lines []string
	for i, seg := range t.st.Segments {
		if i > 0 {
			lines = append(lines, "")
		}
		var head string
		end := seg
		if seg.Op.Meets() {
			from := make([]string, len(seg.Inputs))
			for i, in := range seg.Inputs {
				from[i] = in.Node.String()
			}
			head = fmt.Sprintf("%s (of %s)", seg, strings.Join(from, ", "))
			if cs := t.consumers(seg, 0); len(cs) == 1 {
				var rest string
				rest, end = t.chain(cs[0])
				head += " → " + rest
			}
		} else {
			head, end = t.chain(seg)
		}
		lines = append(lines, head)
		if !end.Op.Meets() || end == seg {
			lines = t.drawAfter(lines, end, "")
		}
	}
	return lines
}

// drawAfter appends the tree below n, the end of a chain: one item per port of a
// Branch, or per consumer of a fan-out.
func (t *taskGen) drawAfter(lines []string, n *ir.Node, indent string) []string {
	if n.Op != ir.OpBranch {
		return t.drawPort(lines, n, 0, indent)
	}
	for i := range n.Fns {
		glyph, more := treeGlyphs(i, len(n.Fns))
		prefix := fmt.Sprintf("%sbranch %d (%s)", indent+glyph, i, t.fnRef(n.Fns[i]))
		switch cs := t.consumers(n, i); len(cs) {
		case 0:
			lines = append(lines, prefix+": dropped")
		case 1:
			s, end := t.chain(cs[0])
			lines = append(lines, prefix+": "+s)
			if !end.Op.Meets() {
				lines = t.drawAfter(lines, end, indent+more)
			}
		default:
			lines = append(lines, prefix)
			lines = t.drawPort(lines, n, i, indent+more)
		}
	}
	return lines
}

// drawPort appends one item per consumer of port of n.
func (t *taskGen) drawPort(lines []string, n *ir.Node, port int, indent string) []string {
	cs := t.consumers(n, port)
	for i, c := range cs {
		glyph, more := treeGlyphs(i, len(cs))
		s, end := t.chain(c)
		lines = append(lines, indent+glyph+s)
		if !end.Op.Meets() {
			lines = t.drawAfter(lines, end, indent+more)
		}
	}
	return lines
}

// treeGlyphs returns the glyph of item i of n, and the indent of what hangs below it.
func treeGlyphs(i, n int) (glyph, more string) {
	if i == n-1 {
		return "└─ ", "   "
	}
	return "├─ ", "│  "
}
