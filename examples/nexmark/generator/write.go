package generator

import (
	"bufio"
	"encoding/json"
	"io"
)

// Write writes events 0 to n-1 to w, one JSON line each.
func (g *Generator) Write(w io.Writer, n int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for k := range n {
		if err := enc.Encode(g.Event(k)); err != nil {
			return err
		}
	}
	return bw.Flush()
}
