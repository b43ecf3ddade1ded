package describe

import (
	"strings"
	"testing"
)

func TestWriteAll(t *testing.T) {
	tops := []Topology{
		{Name: "A", Text: "topology A\n", Mermaid: "graph TD\n  a\n"},
		{Name: "B", Text: "topology B\n", Mermaid: "graph TD\n  b\n"},
	}
	var out strings.Builder
	if err := WriteAll(&out, tops, "B", "mermaid"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "graph TD\n  b\n" {
		t.Errorf("--topology B --format mermaid printed %q, want B's bare diagram", out.String())
	}

	out.Reset()
	err := WriteAll(&out, tops, "", "mermaid")
	if err == nil || !strings.Contains(err.Error(), "--topology") || !strings.Contains(err.Error(), "A, B") {
		t.Errorf("two diagrams in one Mermaid output: err = %v, want one asking for --topology and naming A, B", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q before the error", out.String())
	}

	out.Reset()
	if err := WriteAll(&out, tops, "", "both"); err != nil {
		t.Fatal(err)
	}
	want := "topology A\n\n```mermaid\ngraph TD\n  a\n```\n\ntopology B\n\n```mermaid\ngraph TD\n  b\n```\n"
	if out.String() != want {
		t.Errorf("both formats of both topologies:\n%s\nwant:\n%s", out.String(), want)
	}

	if err := WriteAll(&out, tops, "C", "text"); err == nil || !strings.Contains(err.Error(), `"C"`) {
		t.Errorf("unknown topology: err = %v", err)
	}
}
