package golden

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
)

func TestParseInput(t *testing.T) {
	in := "# comment\n\n" +
		"t1 \"k\" \"v w\"\n" +
		"t2 nil `{\"a\":1}`\n" +
		"t3 int64(-2) float64(2.5)\n" +
		"t4 \"\" nil\n" +
		"@partitions 1\n" +
		"t5 \"k\" \"v\" @42\n"
	recs, err := ParseInput([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []InputRecord{
		{Line: 3, Topic: "t1", Key: []byte("k"), Value: []byte("v w")},
		{Line: 4, Topic: "t2", Key: nil, Value: []byte(`{"a":1}`)},
		{Line: 5, Topic: "t3", Key: binary.BigEndian.AppendUint64(nil, uint64(math.MaxUint64-1)), Value: binary.BigEndian.AppendUint64(nil, math.Float64bits(2.5))},
		{Line: 6, Topic: "t4", Key: []byte{}, Value: nil},
		{Line: 8, Topic: "t5", Key: []byte("k"), Value: []byte("v"), Time: 42, HasTime: true},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		w := want[i]
		if r.Line != w.Line || r.Topic != w.Topic || r.Time != w.Time || r.HasTime != w.HasTime || !slices.Equal(r.Key, w.Key) || !slices.Equal(r.Value, w.Value) ||
			(r.Key == nil) != (w.Key == nil) || (r.Value == nil) != (w.Value == nil) {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}

	for _, bad := range []string{"t1", "t1 \"k\"", "t1 \"k\" \"v\" extra", "t1 k v", "t1 int64(x) nil", "t1 \"k nil", "t1 \"k\" \"v\" @x", "t1 \"k\" \"v\" @1 2"} {
		if _, err := ParseInput([]byte(bad)); err == nil {
			t.Errorf("ParseInput(%q) succeeded, want an error", bad)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{nil, "nil"},
		{[]byte{}, `""`},
		{[]byte("abc"), `"abc"`},
		{binary.BigEndian.AppendUint64(nil, 3), `"\x00\x00\x00\x00\x00\x00\x00\x03" (int64 3)`},
		{[]byte("8 chars!"), `"8 chars!"`}, // printable: text, not a number
	} {
		if got := FormatValue(c.in); got != c.want {
			t.Errorf("FormatValue(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestCheckChangelog(t *testing.T) {
	entries := []streams.KeyValue[[]byte, []byte]{{Key: []byte("a"), Value: []byte("2")}, {Key: []byte("c"), Value: nil}}
	changelog := []runtime.Record{
		{Partition: 0, Key: []byte("a"), Value: []byte("1")},
		{Partition: 1, Key: []byte("b"), Value: []byte("1")},
		{Partition: 0, Key: []byte("a"), Value: []byte("2")},
		{Partition: 1, Key: []byte("b"), Value: nil},
		{Partition: 2, Key: []byte("c"), Value: []byte{}},
	}
	if err := checkChangelog(entries, changelog, false); err != nil {
		t.Errorf("consistent changelog: %v", err)
	}
	if err := checkChangelog(entries, changelog[:4], false); err == nil {
		t.Error("a changelog without c: no error")
	}
	if err := checkChangelog(entries[:1], changelog, false); err == nil {
		t.Error("a store without c: no error")
	}
	// A timestamped store's changelog carries each row's time first.
	timed := []runtime.Record{{Key: []byte("a"), Value: []byte("\x80\x00\x00\x00\x00\x00\x00\x072")}, {Key: []byte("c"), Value: []byte("\x80\x00\x00\x00\x00\x00\x00\x00")}}
	if err := checkChangelog(entries, timed, true); err != nil {
		t.Errorf("consistent timestamped changelog: %v", err)
	}
	if err := checkChangelog(entries, timed[:1], true); err == nil {
		t.Error("a timestamped changelog without c: no error")
	}
}
