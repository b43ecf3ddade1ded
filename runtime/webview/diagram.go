package webview

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofka/streams/runtime"
)

// Diagram is the Mermaid text of p's topology as it runs under appID. A
// generated Program carries gofkagen's diagram (every operator, Program.Mermaid),
// which names internal topics under the default application id: those names
// are rewritten to appID's. A Program written by hand carries none, so its
// diagram is drawn from its structure: sub-topologies with their sources,
// stores and sinks, joined by the topics between them.
func Diagram(p *runtime.Program, appID string) string {
	if p.Mermaid != "" {
		return renameInternal(p, appID)
	}
	var b strings.Builder
	b.WriteString("graph TD\n")
	for _, st := range p.SubTopologies {
		fmt.Fprintf(&b, "  subgraph st%d[\"Sub-topology %d\"]\n", st.ID, st.ID)
		for i := range st.Sources {
			fmt.Fprintf(&b, "    s%d_%d[\"Source\"]\n", st.ID, i)
		}
		fmt.Fprintf(&b, "    p%d[\"Process\"]\n", st.ID)
		for _, si := range st.Stores {
			fmt.Fprintf(&b, "    d%d[(%s)]\n", si, label("store "+p.Stores[si].Name))
		}
		b.WriteString("  end\n")
	}
	for i := range p.Topics {
		fmt.Fprintf(&b, "  t%d[(%s)]\n", i, label(p.TopicName(appID, runtime.TopicID(i))))
	}
	for _, st := range p.SubTopologies {
		for i, src := range st.Sources {
			for _, tp := range src.Topics {
				fmt.Fprintf(&b, "  t%d --> s%d_%d\n", tp, st.ID, i)
			}
			fmt.Fprintf(&b, "  s%d_%d --> p%d\n", st.ID, i, st.ID)
		}
		for _, si := range st.Stores {
			fmt.Fprintf(&b, "  p%d --- d%d\n", st.ID, si)
			if s := p.Stores[si]; int(s.Changelog) < len(p.Topics) && p.Topics[s.Changelog].Kind == runtime.ChangelogTopic {
				fmt.Fprintf(&b, "  d%d -.changelog.-> t%d\n", si, s.Changelog)
			}
		}
		for _, tp := range st.Sinks {
			fmt.Fprintf(&b, "  p%d --> t%d\n", st.ID, tp)
		}
	}
	return b.String()
}

// renameInternal rewrites the internal topics' names in p.Mermaid from the
// default application id's to appID's.
func renameInternal(p *runtime.Program, appID string) string {
	if appID == "" || appID == p.DefaultAppID {
		return p.Mermaid
	}
	var pairs []string
	for _, t := range p.Topics {
		if t.Kind.Internal() {
			pairs = append(pairs, "("+label(p.DefaultAppID+"-"+t.Name)+")", "("+label(appID+"-"+t.Name)+")")
		}
	}
	return strings.NewReplacer(pairs...).Replace(p.Mermaid)
}

// label quotes s as a Mermaid label, as gofkagen's diagram does (ir.Mermaid).
func label(s string) string { return strconv.Quote(strings.ReplaceAll(s, `"`, "'")) }
