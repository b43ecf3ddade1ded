package codegen

import (
	"fmt"
	"go/types"
	"strings"

	"github.com/gofka/streams/codegen/jsongen"
	"github.com/gofka/streams/ir"
)

// Describe is ir.Describe's text of g followed by what the generated code
// adds: for each JSON serde that codegen generates, what it leaves to
// encoding/json. gofkagen describe prints it and the generated code keeps it.
func Describe(g *ir.Graph, pkg *types.Package) string {
	var b strings.Builder
	b.WriteString(ir.Describe(g, pkg))
	describeJSON(&b, g, pkg, ir.Qualifier(pkg))
	return b.String()
}

// describeJSON says, for each JSON serde codegen generates (codegen/jsongen),
// what it leaves to encoding/json and why: the whole type, or types inside it.
// A serde generated entirely says nothing, which keeps most descriptions as
// they were.
func describeJSON(b *strings.Builder, g *ir.Graph, pkg *types.Package, q types.Qualifier) {
	seen := map[string]bool{}
	check := func(s *ir.Serde) {
		if s == nil || s.Builtin != "JSONSerde" || seen[types.TypeString(s.Type, nil)] {
			return
		}
		seen[types.TypeString(s.Type, nil)] = true
		switch reason, std := jsongen.Fallback(s.Type, pkg); {
		case reason != "":
			fmt.Fprintf(b, "  JSON serde of %s: encoding/json, as %s\n", types.TypeString(s.Type, q), reason)
		case len(std) > 0:
			fmt.Fprintf(b, "  JSON serde of %s: generated; left to encoding/json: %s\n", types.TypeString(s.Type, q), strings.Join(std, ", "))
		}
	}
	for _, n := range g.Nodes {
		check(n.KeySerde)
		check(n.ValueSerde)
	}
	for _, st := range g.Stores {
		check(st.KeySerde)
		check(st.ValueSerde)
	}
}
