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
