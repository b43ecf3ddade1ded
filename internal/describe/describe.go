// Package describe prints a topology's description, the text and Mermaid diagram
// that ir.Describe and ir.Mermaid render, for the two describe commands: gofkagen
// describe, which renders them from the source, and a generated binary's describe
// (runtime/app), which reads them from the constants codegen wrote into it.
//
// It is a package of its own so that both can share it without the compiler
// depending on the runtime or the runtime on the compiler. It is internal: as
// runtime/app and cmd/gofkagen both live in this module, both may import it.
package describe

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Write prints a topology's description as gofkagen describe and a generated
// binary's describe command do, in one of three formats:
//
//   - "text": the description alone;
//   - "mermaid": the Mermaid diagram alone, bare, so that the output is a file
//     Mermaid reads (describe --format mermaid > topology.mmd);
//   - "both": for a reader, the description, then the diagram as a fenced
//     ```mermaid block, which a Markdown viewer renders.
func Write(w io.Writer, text, mermaid, format string) error {
	switch format {
	case "text":
		_, err := io.WriteString(w, text)
		return err
	case "mermaid":
		_, err := io.WriteString(w, mermaid)
		return err
	case "both":
		_, err := fmt.Fprintf(w, "%s\n```mermaid\n%s```\n", text, mermaid)
		return err
	}
	return fmt.Errorf("--format must be both, text or mermaid, not %q", format)
}

// Topology is one topology's name and its two renderings.
type Topology struct {
	Name, Text, Mermaid string
}

// WriteAll prints the topologies of a package or binary, or only the one named
// (an empty name means all). A Mermaid file holds one diagram, so format
// "mermaid" with several topologies asks for a name instead of printing
// something no Mermaid reader accepts.
func WriteAll(w io.Writer, tops []Topology, name, format string) error {
	var names []string
	for _, t := range tops {
		names = append(names, t.Name)
	}
	if name != "" {
		i := slices.Index(names, name)
		if i < 0 {
			return fmt.Errorf("no topology %q: there is %s", name, strings.Join(names, ", "))
		}
		tops = tops[i : i+1]
	}
	if format == "mermaid" && len(tops) > 1 {
		return fmt.Errorf("%d topologies (%s) but a Mermaid file holds one diagram: choose one with --topology", len(tops), strings.Join(names, ", "))
	}
	for i, t := range tops {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		if err := Write(w, t.Text, t.Mermaid, format); err != nil {
			return err
		}
	}
	return nil
}
