package registry

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

// TestWireFormatMatchesFranzGo writes headers with this package and with
// franz-go's ConfluentHeader (an independent implementation of the format) and
// reads each with the other.
func TestWireFormatMatchesFranzGo(t *testing.T) {
	var h sr.ConfluentHeader
	for _, c := range []struct {
		id      int
		indexes []int // nil: no message indexes (Avro, JSON Schema)
	}{
		{1, nil}, {0x01020304, nil}, {7, []int{0}}, {7, []int{1, 0}}, {300, []int{2, 5, 64}},
	} {
		ours := AppendHeader([]byte("x"), c.id)[1:]
		if c.indexes != nil {
			ours = AppendMessageIndexes(ours, c.indexes)
		}
		theirs, err := h.AppendEncode(nil, c.id, c.indexes)
		if err != nil {
			t.Fatal(err)
		}
		if string(ours) != string(theirs) {
			t.Errorf("id %d indexes %v: ours %x, franz-go's %x", c.id, c.indexes, ours, theirs)
		}
		id, rest, err := SplitHeader(append(theirs, "payload"...))
		if err != nil || id != c.id {
			t.Fatalf("reading franz-go's header: id %d, %v", id, err)
		}
		if c.indexes != nil {
			var idx []int
			if idx, rest, err = SplitMessageIndexes(rest); err != nil || !reflect.DeepEqual(idx, c.indexes) {
				t.Fatalf("indexes %v (%v), want %v", idx, err, c.indexes)
			}
		}
		if string(rest) != "payload" {
			t.Fatalf("payload %q", rest)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 1}, {1, 0, 0, 0, 1}} {
		if _, _, err := SplitHeader(bad); err == nil {
			t.Errorf("SplitHeader(%x) gave no error", bad)
		}
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x04, 0x02}, {0x01}} {
		if _, _, err := SplitMessageIndexes(bad); err == nil {
			t.Errorf("SplitMessageIndexes(%x) gave no error", bad)
		}
	}
}
